"""Sensor: true from the poke after `after` (each poke is an attempt)."""
from weft import context, sensor


@sensor
def ready(config):
    attempt = int(context.variable("attempt"))
    context.log("poke " + str(attempt))
    return attempt > int(config.get("after", 0))
