"""A few trips with the TLC's column names."""
from weft import loader


@loader
def load_trips(**kwargs):
    return [
        {"VendorID": 1, "Pickup Date": "2021-01-01", "TripDistance": 1.5, "PULocationID": 142},
        {"VendorID": 2, "Pickup Date": "2021-01-01", "TripDistance": 3.25, "PULocationID": 236},
        {"VendorID": 1, "Pickup Date": "2021-01-02", "TripDistance": 0.75, "PULocationID": 142},
    ]
