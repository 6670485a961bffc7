from weft import context, loader


@loader
def show(**kwargs):
    context.log("region is " + str(kwargs.get("region")), level="warning")
    return [{"region": kwargs.get("region"), "block": context.variable("block"), "rows": kwargs["config"].get("rows")}]
