"""Load the trips into BigQuery: a load job from the parquet in GCS, or streamed rows when the
parquet went to the local store."""
from weft import context, exporter, io

PROFILE = "gcs"


@exporter
def load_bigquery(data, exported, **kwargs):
    if not io.available(PROFILE, "bigquery"):
        context.log(
            f"BigQuery stream skipped: io profile '{PROFILE}' configures no BigQuery "
            "(set BIGQUERY_PROJECT, BIGQUERY_DATASET and credentials or BIGQUERY_ENDPOINT)",
            "warn",
        )
        return None
    table = f"bigquery://{PROFILE}/{io.setting(PROFILE, 'BIGQUERY_DATASET')}.yellow_cab_data"
    parquet = exported.to_pylist()[0]["target"]
    if parquet.startswith("gs://"):
        # A load job from the parquet files, partitioned by pickup date.
        summary = io.write(data, table, source=parquet, partition_by=["tpep_pickup_date"], if_exists="replace")
    else:
        summary = io.write(data, table, if_exists="replace")
    return [{"target": summary["target"], "rows": summary["rows"]}]
