if 'data_exporter' not in globals():
    from mage_ai.data_preparation.decorators import data_exporter


@data_exporter
def export_data(data, *args, **kwargs):
    """
    Write the cleaned trips as parquet partitioned by pickup date (Hive layout,
    tpep_pickup_date=YYYY-MM-DD/) under the pipeline variable `parquet_root`: the tutorial's
    GCS export, to a local folder.
    """
    root_path = kwargs.get('parquet_root')

    data.to_parquet(
        root_path,
        partition_cols=['tpep_pickup_date'],
        existing_data_behavior='delete_matching',  # a rerun replaces partitions
    )
