if 'transformer' not in globals():
    from mage_ai.data_preparation.decorators import transformer
if 'test' not in globals():
    from mage_ai.data_preparation.decorators import test

RENAME = {
    'VendorID': 'vendor_id',
    'RatecodeID': 'ratecode_id',
    'PULocationID': 'pu_location_id',
    'DOLocationID': 'do_location_id',
}


@transformer
def transform(data, *args, **kwargs):
    """
    Keep real trips (passengers and distance), add the pickup date, snake_case the columns.
    """
    print(f"Preprocessing: rows with zero passengers: {data['passenger_count'].isin([0]).sum()}")
    print(f"Preprocessing: rows with zero distance: {data['trip_distance'].isin([0]).sum()}")

    # An empty passenger_count (<NA>) compares to <NA>, which a boolean mask treats as False.
    data = data[(data['passenger_count'] > 0) & (data['trip_distance'] > 0)].copy()
    data['tpep_pickup_date'] = data['tpep_pickup_datetime'].dt.date

    return data.rename(columns=RENAME)


@test
def test_output(output, *args) -> None:
    assert output['passenger_count'].isin([0]).sum() == 0, 'There are rides with zero passengers'
    assert output['trip_distance'].isin([0]).sum() == 0, 'There are rides with zero distance'
    assert 'vendor_id' in output.columns, 'vendor_id is not a column'
