"""Tries one door of the sandbox, chosen by ``config["door"]``, the way hostile code would;
returns one row saying what happened (``ok: ...`` or the exception's class and message)."""
import socket

from wit_world.imports import compute

from weft import context, io, loader


def _attempt(config):
    door = config["door"]
    if door == "sql":
        # The raw WIT import, not the SDK's dataframe wrapper.
        t = compute.sql(config["sql"], [])
        return "ok: " + str(t.num_rows()) + " rows"
    if door == "connect":
        s = socket.create_connection((config["host"], int(config["port"])), timeout=2)
        s.sendall(b"hello from a block\n")
        return "ok: connected"
    if door == "lookup":
        return "ok: " + repr(socket.getaddrinfo(config["host"], 80))
    if door == "read":
        t = io.read(config["url"], **config.get("options", {}))
        return "ok: read " + str(t.num_rows) + " rows"
    if door == "setting":
        return "ok: " + repr(io.setting(config["profile"], config["key"]))
    if door == "log_flood":
        line = "x" * int(config.get("width", 1000))
        for i in range(int(config["lines"])):
            context.log(line)
        return "ok: logged"
    raise ValueError("unknown door " + door)


@loader
def doors(config):
    try:
        outcome = _attempt(config)
    except Exception as e:
        outcome = type(e).__name__ + ": " + str(e)
    return [{"door": config["door"], "outcome": outcome}]
