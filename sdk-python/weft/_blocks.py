"""Block decorators, the run context, and the component glue the host calls."""

import inspect
import json
import logging
import os
import sys
import traceback

from componentize_py_types import Err
from wit_world.imports import context as _host
from wit_world.imports import types
from . import _runner

_block = None
_tests = {}


def _register(kind):
    def decorate(fn):
        global _block
        if _block is not None and _block[1] is not fn:
            raise RuntimeError(
                "a block file defines one block function; found "
                + _block[1].__name__ + " and " + fn.__name__
            )
        _block = (kind, fn)
        return fn

    return decorate


loader = _register("loader")
transformer = _register("transformer")
exporter = _register("exporter")
sensor = _register("sensor")
condition = _register("condition")
dynamic = _register("dynamic")
callback = _register("callback")
data_loader = loader
data_exporter = exporter


def test(fn):
    """A check on the block's output, run after the block succeeds; a failed assert fails it."""
    _tests[fn.__name__] = fn
    return fn


class _Context:
    """The run as a block sees it."""

    config = {}

    def variable(self, name, default=None):
        """A run variable (``--var``, pipeline ``variables:``) or a built-in such as
        ``execution_date``."""
        value = _host.variable(name)
        return default if value is None else value

    def variables(self):
        """Every run variable and built-in."""
        return dict(_host.variables())

    def log(self, message, level="info"):
        """A line in the block's log."""
        _host.log(_LEVELS.get(level, types.Level.INFO), str(message))


context = _Context()

_LEVELS = {
    "trace": types.Level.TRACE,
    "debug": types.Level.DEBUG,
    "info": types.Level.INFO,
    "warning": types.Level.WARN,
    "warn": types.Level.WARN,
    "error": types.Level.ERROR,
    "critical": types.Level.ERROR,
}


class _HostLog(logging.Handler):
    def emit(self, record):
        try:
            _host.log(_LEVELS.get(record.levelname.lower(), types.Level.INFO), self.format(record))
        except Exception:
            self.handleError(record)


logging.basicConfig(level=logging.INFO, handlers=[_HostLog()], format="%(name)s: %(message)s")


def _where(exc):
    """`file.py:line` of the innermost frame in block code."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/weft/" not in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    f = frames[-1]
    return " (" + os.path.basename(f.filename) + ", line " + str(f.lineno) + ")"


def _output(value):
    from ._table import Table

    if value is None or isinstance(value, Table):
        return value
    if isinstance(value, bool):
        # A sensor's or condition's answer.
        return Table.from_pydict({"answer": [value]})
    if isinstance(value, list):
        return Table.from_pylist(value)
    if isinstance(value, dict):
        return Table.from_pydict(value)
    raise TypeError(
        "a block returns a Table, a list of dicts, a dict of lists, True/False (sensors, conditions) or None, not " + type(value).__name__
    )


def _call_block(config, inputs):
    from ._table import Table

    if _block is None:
        raise RuntimeError("the block file has no function decorated with @loader, @transformer, ...")
    fn = _block[1]
    context.config = json.loads(config) if config else {}
    tables = [Table(handle, name) for name, handle in inputs]
    params = inspect.signature(fn).parameters.values()
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "config"]
    takes_varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
    takes_kwargs = any(p.kind == p.VAR_KEYWORD for p in params)
    args = tables if takes_varargs else tables[: len(positional)]
    kwargs = {}
    if takes_kwargs:
        kwargs.update(context.variables())
        kwargs["config"] = context.config
    elif any(p.name == "config" for p in params):
        kwargs["config"] = context.config
    return _output(fn(*args, **kwargs))


def _error(exc):
    """The WIT error for an exception: IO errors keep their class (denied, io, invalid-input)."""
    from ._io import Denied, InvalidInput, IOFailure

    where = _where(exc)
    if isinstance(exc, Denied):
        return types.Error_Denied(str(exc) + where)
    if isinstance(exc, IOFailure):
        return types.Error_Io(str(exc) + where)
    if isinstance(exc, InvalidInput):
        return types.Error_InvalidInput(str(exc) + where)
    return types.Error_Failed(type(exc).__name__ + ": " + str(exc) + where)


class WitWorld:
    """The component's exports, called by the host."""

    def run(self, config, inputs):
        try:
            if _runner.active():
                config = _runner.open_envelope(config)
                if config is None:
                    return None
            out = _call_block(config, inputs)
        except _runner.SourceError as exc:
            raise Err(types.Error_InvalidInput(str(exc)))
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
            raise Err(_error(exc))
        if out is None:
            return None
        return out._materialize()

    def tests(self):
        return list(_tests)

    def run_test(self, name, output):
        from ._table import Table

        fn = _tests.get(name)
        if fn is None:
            raise Err("no test named " + name)
        try:
            fn(Table(output))
        except AssertionError as exc:
            message = str(exc)
            if not message:
                frames = traceback.extract_tb(exc.__traceback__)
                message = "assertion failed: " + (frames[-1].line or "") if frames else "assertion failed"
            raise Err(message + _where(exc))
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            raise Err(type(exc).__name__ + ": " + str(exc) + _where(exc))
