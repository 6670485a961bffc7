from weft import loader


@loader
def forever():
    n = 0
    while True:
        n += 1
