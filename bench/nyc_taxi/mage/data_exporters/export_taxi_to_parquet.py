import pyarrow as pa
import pyarrow.parquet as pq

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

    table = pa.Table.from_pandas(data, preserve_index=False)

    pq.write_to_dataset(
        table,
        root_path=root_path,
        partition_cols=['tpep_pickup_date'],
        existing_data_behavior='delete_matching',  # a rerun replaces partitions
    )
