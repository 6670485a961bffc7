"""Runs one pandas case and renders its result as plain JSON values, the same way under real
pandas (the reference) and under weft's pandas (in the sandbox): the two are compared."""

import ast
import datetime
import math

FIXTURE_DTYPES = {"id": "Int64", "passengers": "Int64", "fare": float, "tip": float, "name": str,
                  "city": str, "code": str, "flag": "boolean"}
FIXTURE_DATES = ["pickup"]


def run_case(code, namespace):
    """Execute ``code``; its last line, if an expression, is the result (else ``out``)."""
    tree = ast.parse(code)
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr):
        tree.body = tree.body[:-1]
        exec(compile(tree, "<case>", "exec"), namespace)
        return eval(compile(ast.Expression(last.value), "<case>", "eval"), namespace)
    exec(compile(tree, "<case>", "exec"), namespace)
    return namespace.get("out")


def value(v):
    """A cell as JSON: missing → None, numbers rounded to 9 significant digits, times as ISO."""
    if v is None:
        return None
    if hasattr(v, "item") and callable(v.item) and not isinstance(v, (datetime.date, str)):
        try:
            v = v.item()
        except (ValueError, TypeError):
            pass
    name = type(v).__name__
    if name in ("NAType", "NaTType"):
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return float("%.9g" % v)
    if isinstance(v, datetime.datetime):
        return v.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(v, datetime.date):
        return v.isoformat()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): value(x) for k, x in v.items()}
    return v if isinstance(v, str) else str(v)


def number(v):
    """Numbers compare as floats: an int column in one and an Int64 column in the other agree."""
    v = value(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return v
    return float("%.9g" % v)


def kind(dtype):
    k = getattr(dtype, "kind", "O")
    return {"u": "i"}.get(k, k) if k in "iufbM" else "O"


def render(result, pd):
    """``result`` as {"kind", ...} JSON."""
    if isinstance(result, pd.DataFrame):
        frame = _flat(result, pd)
        cols = [str(c) for c in frame.columns]
        rows = [[number(r[c]) for c in frame.columns] for r in frame.to_dict("records")]
        return {"kind": "frame", "columns": cols, "dtypes": [kind(frame.dtypes[c]) for c in frame.columns], "rows": rows}
    if isinstance(result, pd.Series):
        out = {"kind": "series", "name": None if result.name is None else str(result.name),
               "dtype": kind(result.dtype), "values": [number(v) for v in result.tolist()]}
        labels = _labels(result, pd)
        if labels is not None:
            out["index"] = [number(v) for v in labels]
        return out
    if isinstance(result, tuple) and not hasattr(result, "_fields"):
        return {"kind": "tuple", "value": [render(v, pd) for v in result]}
    if isinstance(result, (list, dict)) or (hasattr(result, "tolist") and getattr(result, "ndim", 1) != 0):
        if hasattr(result, "tolist"):
            result = result.tolist()
        return {"kind": "py", "value": _deep(result)}
    return {"kind": "scalar", "value": number(result)}


def _deep(v):
    if isinstance(v, dict):
        return {str(value(k)): _deep(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_deep(x) for x in v]
    return number(v)


def _flat(frame, pd):
    """A frame with its row labels as columns when they mean something (group keys), else
    without them (positions, or the labels a filter kept)."""
    if hasattr(frame, "_index"):  # weft's pandas
        return frame.reset_index()
    named = [n for n in frame.index.names if n is not None]
    return frame.reset_index() if named else frame.reset_index(drop=True)


def _labels(series, pd):
    """Labels that mean something: group keys, or labels given (column names of a reduction)."""
    index = series.index
    if hasattr(series, "_index"):  # weft's pandas: labels are a column of its own
        return index.tolist() if series._index else None
    if isinstance(index, pd.RangeIndex):
        return None
    if all(n is None for n in index.names) and index.dtype.kind in "iu":
        return None  # the row labels a filter kept
    return index.tolist()
