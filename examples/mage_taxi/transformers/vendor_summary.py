if 'transformer' not in globals():
    from mage_ai.data_preparation.decorators import transformer


@transformer
def summarise(vendor, trips, *args, **kwargs):
    """Trips and revenue of one vendor (`vendor` is one item of list_vendors' output)."""
    vendor_id = int(vendor['vendor_id'])
    mine = trips[trips['vendor_id'] == vendor_id]
    return [dict(vendor_id=vendor_id, trips=len(mine), revenue=round(float(mine['total_amount'].sum()), 2))]
