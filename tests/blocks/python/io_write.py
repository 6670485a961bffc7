"""Exporter: writes its first input to `config["target"]` with `config["options"]` and outputs
the write's summary as one row."""
import json

from weft import exporter, io


@exporter
def write(data, config):
    summary = io.write(data, config["target"], **config.get("options", {}))
    return [{"target": summary["target"], "rows": summary["rows"], "files": json.dumps(summary.get("files", []))}]
