from weft import loader, test


@loader
def rows():
    return [{"x": 1}, {"x": -1}]


@test
def all_positive(output):
    assert min(output.column("x")) > 0, "x has negative values"


@test
def bare_assert(output):
    assert output.num_rows > 5
