"""``Series.dt`` and ``Series.str``: date and text functions of the host engine."""

from weft._expr import literal

from ._core import unsupported

_FLOOR = {"D": "day", "d": "day", "h": "hour", "H": "hour", "min": "minute", "T": "minute",
          "s": "second", "S": "second", "MS": "month", "M": "month", "W": "week", "Y": "year"}


class DatetimeAccessor:
    """Parts of dates and timestamps: ``s.dt.date``, ``s.dt.year``, ``s.dt.floor("h")``..."""

    def __init__(self, s):
        self._s = s

    def _part(self, part):
        return self._s._with("CAST(date_part('" + part + "', " + self._s._sql + ") AS BIGINT)")

    @property
    def date(self):
        return self._s._with("CAST(" + self._s._sql + " AS DATE)")

    @property
    def year(self):
        return self._part("year")

    @property
    def month(self):
        return self._part("month")

    @property
    def day(self):
        return self._part("day")

    @property
    def hour(self):
        return self._part("hour")

    @property
    def minute(self):
        return self._part("minute")

    @property
    def second(self):
        return self._part("second")

    @property
    def quarter(self):
        return self._part("quarter")

    @property
    def dayofyear(self):
        return self._part("doy")

    @property
    def weekday(self):
        # pandas: Monday is 0; SQL's dow: Sunday is 0.
        return self._s._with("CAST((date_part('dow', " + self._s._sql + ") + 6) % 7 AS BIGINT)")

    dayofweek = weekday
    day_of_week = weekday

    def floor(self, freq):
        f = str(freq)
        unit = _FLOOR.get(f[1:] if f.startswith("1") and not f[1:2].isdigit() else f)
        if unit is None:
            raise unsupported("dt.floor(" + repr(freq) + ")", "use one of " + ", ".join(sorted(_FLOOR)))
        return self._s._with("date_trunc('" + unit + "', " + self._s._sql + ")")

    def normalize(self):
        return self.floor("D")

    def strftime(self, fmt):
        return self._s._with("to_char(" + self._s._sql + ", " + literal(fmt) + ")")

    def day_name(self):
        return self._s._with("to_char(" + self._s._sql + ", '%A')")

    def month_name(self):
        return self._s._with("to_char(" + self._s._sql + ", '%B')")

    def __getattr__(self, name):
        raise unsupported("Series.dt." + name, "date, year, month, day, hour, minute, weekday, floor and strftime are supported")


class StringAccessor:
    """Text functions: ``s.str.lower()``, ``s.str.contains("x")``, ``s.str[:3]``..."""

    def __init__(self, s):
        self._s = s

    def _fn(self, sql):
        return self._s._with(sql)

    def lower(self):
        return self._fn("lower(" + self._s._sql + ")")

    def upper(self):
        return self._fn("upper(" + self._s._sql + ")")

    def title(self):
        return self._fn("initcap(" + self._s._sql + ")")

    def strip(self, to_strip=None):
        return self._fn("btrim(" + self._s._sql + ("" if to_strip is None else ", " + literal(to_strip)) + ")")

    def lstrip(self, to_strip=None):
        return self._fn("ltrim(" + self._s._sql + ("" if to_strip is None else ", " + literal(to_strip)) + ")")

    def rstrip(self, to_strip=None):
        return self._fn("rtrim(" + self._s._sql + ("" if to_strip is None else ", " + literal(to_strip)) + ")")

    def len(self):
        return self._fn("CAST(character_length(" + self._s._sql + ") AS BIGINT)")

    def replace(self, pat, repl, n=-1, case=None, regex=False):
        if n != -1:
            raise unsupported("str.replace with n", "replace every occurrence")
        if regex:
            flags = "'g'" if case is not False else "'gi'"
            return self._fn("regexp_replace(" + self._s._sql + ", " + literal(pat) + ", " + literal(repl) + ", " + flags + ")")
        return self._fn("replace(" + self._s._sql + ", " + literal(pat) + ", " + literal(repl) + ")")

    def contains(self, pat, case=True, regex=True, na=None):
        if regex:
            op = " ~ " if case else " ~* "
            sql = "(" + self._s._sql + op + literal(pat) + ")"
        elif case:
            sql = "(strpos(" + self._s._sql + ", " + literal(pat) + ") > 0)"
        else:
            sql = "(strpos(lower(" + self._s._sql + "), lower(" + literal(pat) + ")) > 0)"
        if na is not None:
            sql = "COALESCE(" + sql + ", " + literal(bool(na)) + ")"
        return self._fn(sql)

    def startswith(self, pat, na=None):
        sql = "starts_with(" + self._s._sql + ", " + literal(pat) + ")"
        return self._fn(sql if na is None else "COALESCE(" + sql + ", " + literal(bool(na)) + ")")

    def endswith(self, pat, na=None):
        sql = "ends_with(" + self._s._sql + ", " + literal(pat) + ")"
        return self._fn(sql if na is None else "COALESCE(" + sql + ", " + literal(bool(na)) + ")")

    def slice(self, start=None, stop=None, step=None):
        if step not in (None, 1) or (start or 0) < 0 or (stop is not None and stop < 0):
            raise unsupported("str.slice with a step or negative bounds", "use non-negative start and stop")
        start = start or 0
        if stop is None:
            return self._fn("substr(" + self._s._sql + ", " + str(start + 1) + ")")
        return self._fn("substr(" + self._s._sql + ", " + str(start + 1) + ", " + str(max(0, stop - start)) + ")")

    def __getitem__(self, key):
        if isinstance(key, slice):
            return self.slice(key.start, key.stop, key.step)
        if isinstance(key, int) and key >= 0:
            return self.slice(key, key + 1)
        raise unsupported("str[" + repr(key) + "]", "use a non-negative index or slice")

    def _padded(self, fn, width, fill):
        # lpad/rpad cut longer strings; pandas leaves them whole.
        x, w = self._s._sql, str(int(width))
        return self._fn("CASE WHEN character_length(" + x + ") >= " + w + " THEN " + x + " ELSE "
                        + fn + "(" + x + ", " + w + ", " + literal(fill) + ") END")

    def zfill(self, width):
        return self._padded("lpad", width, "0")

    def pad(self, width, side="left", fillchar=" "):
        return self._padded("lpad" if side == "left" else "rpad", width, fillchar)

    def cat(self, others=None, sep=""):
        if others is None:
            raise unsupported("str.cat without others", "join the values in Python: ''.join(s.tolist())")
        left = self._s._with("(" + self._s._sql + " || " + literal(sep) + ")") if sep else self._s
        return left._binary("||", others).rename(self._s.name)

    def __getattr__(self, name):
        raise unsupported("Series.str." + name, "lower, upper, strip, replace, contains, startswith, endswith, len and slice are supported")
