"""Mage's block decorators, as weft blocks.

A Mage block function takes its upstream outputs positionally and the run's variables as
keywords (``execution_date`` as a datetime); what it returns is its output. Tests take
``(output, *args)``. A callback file may hold ``@callback('success')`` and
``@callback('failure')`` functions: the one matching how the block ended runs.
"""

import inspect

from weft import _blocks
from mage_ai._glue import mage_kwargs, to_frame, to_table

_callbacks = {}


def _positional(fn, inputs):
    params = inspect.signature(fn).parameters.values()
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return inputs
    n = len([p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
    return inputs[:n]


def _keywords(fn, kwargs):
    params = inspect.signature(fn).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in params}


def _item(table):
    """What Mage hands a child of a dynamic block: its one item (a dict, or the value itself
    when the parent returned plain values)."""
    rows = table.to_pylist()
    if not rows:
        return None
    row = rows[0]
    return row["value"] if list(row) == ["value"] else row


def _call(fn, tables, extra=None):
    items = set(_blocks.context.config.get("mage", {}).get("items", []))
    frames = [_item(t) if i in items else to_frame(t) for i, t in enumerate(tables)]
    kwargs = mage_kwargs()
    if extra:
        kwargs.update(extra)
    return fn(*_positional(fn, frames), **_keywords(fn, kwargs))


def _output(value):
    """A block's output: a DataFrame, a list of dicts, a dict of lists, or Mage's dynamic
    forms (a list of items, or ``[items, metadata]``)."""
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, list) for v in value)
        and all(isinstance(m, dict) and "block_uuid" in m for m in value[1])
    ):
        value = value[0]
    if isinstance(value, list) and value and not isinstance(value[0], dict):
        value = [{"value": v} for v in value]
    return to_table(value)


def _block(kind, convert=_output):
    def decorate(fn):
        def run(*tables, **_ignored):
            return convert(_call(fn, tables))

        run.__name__ = fn.__name__
        _blocks._register(kind)(run)
        return fn

    return decorate


def _answer(value):
    return bool(value)


data_loader = _block("loader")
transformer = _block("transformer")
data_exporter = _block("exporter")
custom = _block("transformer")
sensor = _block("sensor", _answer)
condition = _block("condition", _answer)


def test(fn):
    """A check on the block's output: ``fn(output, *args)``; a failed assert fails it."""

    def check(output):
        return fn(to_frame(output))

    check.__name__ = fn.__name__
    _blocks.test(check)
    return fn


def _run_callbacks(*tables, **_ignored):
    kwargs = mage_kwargs()
    status = kwargs.get("callback_status", "")
    wanted = "success" if status == "success" else "failure"
    if status != "success":
        kwargs["__error"] = kwargs.get("callback_error")
    frames = [to_frame(t) for t in tables]
    for fn in _callbacks.get(wanted, []) + _callbacks.get("any", []):
        params = [
            p for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
        # After a failure there is no output: the parent's data is None, as in Mage.
        args = frames + [None] * max(0, len(params) - len(frames))
        fn(*_positional(fn, args), **_keywords(fn, kwargs))
    return None


def callback(arg):
    """``@callback('success')``, ``@callback('failure')`` or plain ``@callback``."""

    def register(status):
        def decorate(fn):
            _callbacks.setdefault(status, []).append(fn)
            _blocks._register("callback")(_run_callbacks)
            return fn

        return decorate

    if callable(arg):
        return register("any")(arg)
    return register(str(arg))


def on_success(fn):
    return callback("success")(fn)


def on_failure(fn):
    return callback("failure")(fn)


__all__ = [
    "callback", "condition", "custom", "data_exporter", "data_loader",
    "on_failure", "on_success", "sensor", "test", "transformer",
]
