"""Write the cleaned trips as parquet partitioned by pickup date: to GCS when the `gcs` profile
configures it, else to the project's own object store."""
from weft import context, exporter, io

PROFILE = "gcs"
PREFIX = "nyc_taxi/yellow_cab_data"


@exporter
def export_to_gcs(data, **kwargs):
    if io.available(PROFILE, "gcs"):
        target = f"gs://{io.setting(PROFILE, 'GCS_BUCKET')}/{PREFIX}"
    else:
        target = f"local://exports/{PREFIX}"
        context.log(f"no GCS configured in io profile '{PROFILE}': writing to {target}", "warn")
    summary = io.write(
        data,
        target,
        format="parquet",
        partition_by=["tpep_pickup_date"],
        profile=PROFILE,
        if_exists="replace",
    )
    return [{"target": target, "rows": summary["rows"], "files": len(summary["files"])}]
