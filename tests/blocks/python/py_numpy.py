from weft import transformer
import numpy as np


@transformer
def t(table):
    return {"x": list(np.arange(3))}
