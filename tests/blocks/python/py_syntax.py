from weft import loader


@loader
def rows():
    return [{"x": 1}
