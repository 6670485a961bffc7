"""``merge`` and ``concat``: joins and unions in the host engine, in pandas' row order."""

from weft._expr import quote
from weft._table import Table

from . import _core
from ._core import listed, unsupported
from ._dtypes import sql_of_arrow

_JOINS = {"inner": "JOIN", "left": "LEFT JOIN", "right": "RIGHT JOIN", "outer": "FULL JOIN"}


def merge(left, right, how="inner", on=None, left_on=None, right_on=None, suffixes=("_x", "_y"), **kw):
    """Join two frames on columns, as ``pd.merge`` (rows in the left frame's order, then the
    right's; for ``outer`` sorted by key, as pandas does)."""
    from ._frame import DataFrame

    if kw.get("left_index") or kw.get("right_index"):
        raise unsupported("merge on the index", "merge on columns (reset_index() first)")
    if how == "cross":
        lk, rk = [], []
    elif on is not None:
        lk = rk = listed(on)
    elif left_on is not None:
        lk, rk = listed(left_on), listed(right_on)
    else:
        lk = rk = [c for c in left._cols() if c in right._cols()]
        if not lk:
            raise ValueError("No common columns to perform merge on")
    if how not in _JOINS and how != "cross":
        raise unsupported("merge(how=" + repr(how) + ")", "use inner, left, right, outer or cross")
    lpos, rpos = _core.fresh("lpos"), _core.fresh("rpos")
    lsrc, lsources = left._rows.table._source()
    rsrc, rsources = right._rows.table._source()
    lcols, rcols = left._all(), right._all()
    shared_keys = [k for k, r in zip(lk, rk) if k == r]
    out = []
    for c in lcols:
        if c in shared_keys and how in ("right", "outer"):
            out.append("COALESCE(l." + quote(c) + ", r." + quote(c) + ") AS " + quote(c))
        elif c in rcols and c not in shared_keys:
            out.append("l." + quote(c) + " AS " + quote(c + suffixes[0]))
        else:
            out.append("l." + quote(c) + " AS " + quote(c))
    for c in rcols:
        if c in shared_keys:
            continue
        out.append("r." + quote(c) + " AS " + quote(c + suffixes[1] if c in lcols else c))
    # Missing keys match each other, as in pandas.
    cond = " AND ".join("l." + quote(a) + " IS NOT DISTINCT FROM r." + quote(b) for a, b in zip(lk, rk)) or "TRUE"
    join = "CROSS JOIN" if how == "cross" else _JOINS[how]
    if how == "outer":
        order = ", ".join(quote(k) for k in shared_keys or lk) or "1"
    elif how == "right":
        order = "r." + quote(rpos) + ", l." + quote(lpos)
    else:
        order = "l." + quote(lpos) + ", r." + quote(rpos)
    q = ("SELECT " + ", ".join(out) + " FROM (SELECT *, row_number() OVER () AS " + quote(lpos) + " FROM " + lsrc
         + ") AS l " + join + " (SELECT *, row_number() OVER () AS " + quote(rpos) + " FROM " + rsrc + ") AS r"
         + ("" if how == "cross" else " ON " + cond) + " ORDER BY " + order)
    return DataFrame._from_table(_core.ordered(q, dict(lsources, **rsources)))


def concat(objs, axis=0, ignore_index=False, join="outer", **_kw):
    """Frames one after another (columns matched by name; a missing column is null)."""
    from ._frame import DataFrame
    from ._series import Series

    objs = [o for o in objs if o is not None]
    if axis not in (0, "index"):
        raise unsupported("concat(axis=1)", "merge on a key column")
    if not objs:
        raise ValueError("No objects to concatenate")
    series = all(isinstance(o, Series) for o in objs)
    if series:
        # Series are stacked whatever their names; the result keeps a name they share.
        names = {o.name for o in objs}
        shared = names.pop() if len(names) == 1 else None
        frames = [o.to_frame("value") for o in objs]
    else:
        frames = [o.to_frame() if isinstance(o, Series) else o for o in objs]
    names = []
    for f in frames:
        for c in f._cols():
            if c not in names:
                names.append(c)
    if join == "inner":
        names = [c for c in names if all(c in f._cols() for f in frames)]
    types = {}
    for f in frames:
        for c in f._rows.table.schema:
            types.setdefault(c.name, c.type)
    parts, sources = [], {}
    for i, f in enumerate(frames):
        src, s = f._rows.table._source()
        sources.update(s)
        cols = [quote(c) if c in f._cols() else "CAST(NULL AS " + sql_of_arrow(types.get(c)) + ") AS " + quote(c) for c in names]
        parts.append("SELECT " + ", ".join(cols) + ", " + str(i) + " AS " + quote(_core.HIDDEN + "part")
                     + ", row_number() OVER () AS " + quote(_core.HIDDEN + "row") + " FROM " + src)
    q = ("SELECT " + ", ".join(quote(c) for c in names) + " FROM (" + " UNION ALL ".join(parts)
         + ") ORDER BY " + quote(_core.HIDDEN + "part") + ", " + quote(_core.HIDDEN + "row"))
    out = DataFrame._from_table(_core.ordered(q, sources))
    if series:
        return out["value"].rename(shared)
    return out
