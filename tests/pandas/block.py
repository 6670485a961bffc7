

# --- the sandbox side: appended to harness.py as the test's block.
import json  # noqa: E402

import pandas as pd  # noqa: E402
from weft import loader  # noqa: E402


@loader
def cases(config):
    path = "file://fixture.csv"
    base = pd.read_csv(path, dtype=FIXTURE_DTYPES, parse_dates=FIXTURE_DATES)
    out = []
    for case in config["cases"]:
        namespace = {"pd": pd, "df": base.copy(), "PATH": path, "FOLDER": "file://"}
        try:
            result = json.dumps(render(run_case(case["code"], namespace), pd), sort_keys=True)
            error = None
        except Exception as e:  # every failure is an answer to compare
            result, error = None, type(e).__name__ + ": " + str(e)
        out.append({"name": case["name"], "result": result, "error": error})
    return out
