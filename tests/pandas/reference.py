"""The reference: every case under real pandas. stdin: {"cases": [...], "fixture": path};
stdout: [{"name", "result", "error"}] as the sandbox block answers."""

import json
import os
import sys

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FIXTURE_DATES, FIXTURE_DTYPES, render, run_case  # noqa: E402


def prepare(folder):
    """The fixture as gzip CSV, parquet and newline-delimited JSON too, for the readers."""
    base = pd.read_csv(os.path.join(folder, "fixture.csv"), dtype=FIXTURE_DTYPES, parse_dates=FIXTURE_DATES)
    base.to_csv(os.path.join(folder, "fixture.csv.gz"), index=False, compression="gzip")
    base.to_parquet(os.path.join(folder, "fixture.parquet"), index=False)
    base[["id", "name", "fare"]].to_json(os.path.join(folder, "fixture.jsonl"), orient="records", lines=True)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--prepare":
        prepare(sys.argv[2])
        return
    request = json.load(sys.stdin)
    path = request["fixture"]
    folder = os.path.dirname(path)
    base = pd.read_csv(path, dtype=FIXTURE_DTYPES, parse_dates=FIXTURE_DATES)
    out = []
    for case in request["cases"]:
        if case.get("error"):
            continue
        namespace = {"pd": pd, "df": base.copy(), "PATH": path, "FOLDER": folder + "/"}
        try:
            result = json.dumps(render(run_case(case["code"], namespace), pd), sort_keys=True)
            error = None
        except Exception as e:
            result, error = None, type(e).__name__ + ": " + str(e)
        out.append({"name": case["name"], "result": result, "error": error})
    json.dump(out, sys.stdout)


main()
