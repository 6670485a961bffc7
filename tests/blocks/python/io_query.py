"""Loader: the rows of `config["sql"]` run in io profile `config["profile"]`."""
from weft import io, loader


@loader
def query(config):
    return io.query(config["profile"], config["sql"])
