"""Callback: logs what it was told; fails when configured to."""
from weft import callback, context


@callback
def told(*tables, **kwargs):
    context.log("told " + kwargs.get("callback_status", "?") + " of " + kwargs.get("callback_block", "") + " with " + str(len(tables)) + " table(s)")
    if kwargs["config"].get("fail"):
        raise RuntimeError("the callback broke")
