"""The shared runner: one prebuilt component that runs any Python block from its source.

A block edited in the UI runs in seconds this way, while its own component (the module
imported ahead of time) is built beside it. The host sends the source with each call, as an
envelope around the block's config; a block's own component never reads one.
"""

import json
import sys
import traceback

_on = False


def enable():
    """Called once by the runner's app module: calls carry their block's source."""
    global _on
    _on = True


def active():
    """Whether this component is the runner."""
    return _on


class SourceError(Exception):
    """The source the runner was sent cannot be loaded (it does not compile, or its module
    name is one Python already has)."""


def open_envelope(config):
    """Load the block the envelope carries; returns the block's own config text, or None
    when the host only asked whether the source compiles."""
    envelope = json.loads(config)
    source = envelope["source"]
    file = envelope["file"]
    name = envelope["module"]
    if name in sys.modules:
        # Its own component would import that module instead of the block's file.
        raise SourceError(
            f"{file}: `{name}` is the name of a module Python or weft already has; rename the file"
        )
    try:
        code = compile(source, file, "exec")
    except SyntaxError as exc:
        raise SourceError(syntax_message(exc)) from None
    if envelope.get("check"):
        return None
    module = type(sys)(name)
    module.__file__ = file
    sys.modules[name] = module
    exec(code, module.__dict__)
    return json.dumps(envelope.get("config", {}))


def syntax_message(exc):
    """Python's own account of a SyntaxError: file, line, the line itself and a caret."""
    return "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
