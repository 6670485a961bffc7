if 'transformer' not in globals():
    from mage_ai.data_preparation.decorators import transformer


@transformer
def vendors(data, *args, **kwargs):
    """One child per vendor: Mage's dynamic output, [items, metadata]."""
    ids = sorted(int(v) for v in data['vendor_id'].dropna().unique())
    return [
        [dict(vendor_id=v) for v in ids],
        [dict(block_uuid=f'vendor_{v}') for v in ids],
    ]
