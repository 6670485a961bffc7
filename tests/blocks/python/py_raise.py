from weft import transformer


@transformer
def boom(table):
    rows = table.num_rows
    return rows / 0
