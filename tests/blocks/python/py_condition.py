"""Condition: true when run variable `region` is the configured one."""
from weft import condition, context


@condition
def in_region(*tables, **kwargs):
    return kwargs.get("region") == kwargs["config"].get("region", "eu")
