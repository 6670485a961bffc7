from weft import transformer
import pandas as pd


@transformer
def t(table):
    return pd.DataFrame(table.to_pylist())
