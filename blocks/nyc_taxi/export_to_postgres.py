"""Load the cleaned trips into Postgres `ny_taxi.yellow_cab_data`, replacing it."""
from weft import context, exporter, io

PROFILE = "default"
TABLE = "ny_taxi.yellow_cab_data"


@exporter
def export_to_postgres(data, **kwargs):
    if not io.available(PROFILE, "postgres"):
        context.log(
            f"Postgres stream skipped: io profile '{PROFILE}' has no reachable Postgres "
            "(set POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DBNAME)",
            "warn",
        )
        return None
    # One transaction, binary COPY: a failed load leaves the old table as it was.
    summary = io.write(data, f"postgres://{PROFILE}/{TABLE}", if_exists="replace")
    return [{"target": summary["target"], "rows": summary["rows"]}]
