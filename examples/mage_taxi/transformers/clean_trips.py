if 'transformer' not in globals():
    from mage_ai.data_preparation.decorators import transformer
if 'test' not in globals():
    from mage_ai.data_preparation.decorators import test


@transformer
def transform(data, *args, **kwargs):
    """Keep trips with passengers and distance; add the pickup date; snake_case the columns."""
    min_distance = float(kwargs.get('min_distance', 0))
    print(f"rows with zero passengers: {data['passenger_count'].isin([0]).sum()}")
    data = data[(data['passenger_count'] > 0) & (data['trip_distance'] > min_distance)].copy()
    data['pickup_date'] = data['tpep_pickup_datetime'].dt.date
    data.columns = (data.columns
                    .str.replace('ID', '_id')
                    .str.replace('PU', 'pu_')
                    .str.replace('DO', 'do_')
                    .str.lower())
    return data


@test
def test_output(output, *args) -> None:
    assert output['passenger_count'].isin([0]).sum() == 0, 'There are rides with zero passengers'
    assert 'vendor_id' in output.columns, 'vendor_id is not a column'
