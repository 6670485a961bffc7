"""A fan-out child: its input is its own row; the row's fields are variables too."""
from weft import context, transformer


@transformer
def child(row, **kwargs):
    rows = row.to_pylist()
    assert len(rows) == 1, "a child sees one row, got " + str(len(rows))
    n = int(kwargs["n"])
    context.log("child " + kwargs["name"])
    return [{"name": rows[0]["name"], "double": n * 2}]
