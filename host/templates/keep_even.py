"""Transformer: keeps the rows whose `n` is even. The filter runs in weft's host engine."""
from weft import col, transformer


@transformer
def keep_even(numbers, **kwargs):
    kept = numbers.filter(col("n") % 2 == 0).with_column("half", col("n") / 2)
    print(f"kept {kept.num_rows} of {numbers.num_rows} rows")
    return kept
