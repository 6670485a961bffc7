"""Applies one Table operation, chosen by config, to its input (for tests)."""
from weft import Table, col, lit, transformer


@transformer
def ops(table, config):
    op = config["op"]
    if op == "select":
        return table.select("b", "a")
    if op == "drop":
        return table.drop("c")
    if op == "rename":
        return table.rename({"a": "alpha"}, b="beta")
    if op == "filter":
        return table.filter((col("a") > 1) & ~col("c").is_null())
    if op == "filter_or":
        return table.filter((col("a") == 1) | (col("b") == "z"))
    if op == "with_column":
        return table.with_column("d", (col("a") + 1) * 2 - lit(1)).with_column("a", col("a") % 2)
    if op == "cast":
        return table.cast({"a": "float", "e": "date"})
    if op == "sort":
        return table.sort("b", descending=True)
    if op == "head":
        return table.head(2)
    if op == "sql":
        return table.sql("SELECT b, sum(a) AS total FROM self GROUP BY b ORDER BY b")
    if op == "sql_by_name":
        return table.sql("SELECT count(*) AS n FROM src WHERE c IS NOT NULL")
    if op == "fill_null":
        return table.with_column("c", col("c").fill_null(0.0)).select("c")
    if op == "isin":
        return table.filter(col("b").isin(["x", "z"])).select("a")
    if op == "divide":
        return table.with_column("half", col("a") / 2).select("half")
    if op == "pydict":
        d = table.sort("a").to_pydict()
        return Table.from_pydict({"a": d["a"], "b_upper": [s.upper() for s in d["b"]]})
    if op == "shape":
        return [{"rows": table.num_rows, "columns": ",".join(table.columns), "types": ",".join(c.type for c in table.schema)}]
    if op == "unknown_column":
        return table.select("nope")
    if op == "bad_filter":
        return table.filter(col("missing") > 1)
    raise ValueError("unknown op " + op)
