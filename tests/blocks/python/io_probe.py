"""Loader: asks the host for a profile setting and availability; reports what it got, or the
error class and message when denied."""
from weft import io, loader


@loader
def probe(config):
    out = {}
    for key in config.get("settings", []):
        try:
            out[key] = io.setting(config["profile"], key)
        except Exception as e:
            out[key] = type(e).__name__ + ": " + str(e)
    for service in config.get("services", []):
        try:
            out[service] = str(io.available(config["profile"], service))
        except Exception as e:
            out[service] = type(e).__name__ + ": " + str(e)
    return [out]
