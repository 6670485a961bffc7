"""Loader for a fan-out: one row per file name."""
from weft import loader


@loader
def files(config):
    return [{"name": "f" + str(i) + ".csv", "n": i} for i in range(int(config.get("count", 3)))]
