"""Loader: a small table with ints, strings, nulls, floats and date strings."""
from weft import loader


@loader
def src():
    return [
        {"a": 1, "b": "x", "c": 1.5, "e": "2021-01-01"},
        {"a": 2, "b": "y", "c": None, "e": "2021-01-02"},
        {"a": 3, "b": "z", "c": 3.5, "e": "2021-01-03"},
    ]
