"""A Python block for benchmarks: `rows` outputs that many rows, `noop` nothing."""
from weft import transformer


@transformer
def probe(*tables, config):
    if config.get("mode") == "rows":
        return [{"id": i} for i in range(int(config["rows"]))]
    return None
