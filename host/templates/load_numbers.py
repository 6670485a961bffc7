"""Loader: generates `rows` rows of numbers (config `rows`)."""
from weft import loader, test


@loader
def load_numbers(config):
    rows = config.get("rows", 100)
    print(f"generating {rows} rows")
    return [{"n": i, "name": f"item {i}"} for i in range(1, rows + 1)]


@test
def not_empty(output):
    assert output.num_rows > 0, "no rows were generated"
