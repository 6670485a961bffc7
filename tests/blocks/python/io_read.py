"""Loader: `io.read(config["url"], **config["options"])`; the table is the output."""
from weft import io, loader


@loader
def read(config):
    return io.read(config["url"], **config.get("options", {}))
