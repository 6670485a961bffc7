"""Loader: prints the granted environment variable named in its config (to test redaction)."""
import os

from weft import loader


@loader
def print_env(config):
    value = os.environ.get(config["name"], "<unset>")
    print("the value is", value)
    return [{"length": len(value)}]
