//! `weft import mage` on the Mage project of `examples/mage_taxi`: what it writes is pinned in
//! `tests/golden/mage_import/` (`WEFT_BLESS=1` rewrites it), what needs a hand is reported with
//! file and line, and importing again keeps edits or refuses, naming the files.

use std::path::Path;

use serde_json::Value;

use crate::support::*;

const GOLDEN: &str = "tests/golden/mage_import";

/// A copy of the example Mage project, so a test can change it.
fn mage_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("examples/mage_taxi"), dir.path());
    dir
}

fn import(mage: &Path, into: &Path) -> Ran {
    weft()
        .args(["import", "mage"])
        .arg(mage)
        .arg("--into")
        .arg(into)
        .arg("--json")
        .output()
        .unwrap()
        .into()
}

/// `file:line: reason` of every finding of `block` that needs a hand.
fn hands(report: &Value, block: &str) -> Vec<String> {
    let b = report["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["block"] == block)
        .unwrap_or_else(|| panic!("no block {block} in the report"));
    b["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["hand"] == true)
        .map(|f| {
            format!(
                "{}:{}: {}",
                f["file"].as_str().unwrap(),
                f["line"],
                f["reason"].as_str().unwrap()
            )
        })
        .collect()
}

fn golden(name: &str, actual: &str) {
    let path = repo().join(GOLDEN).join(name);
    if std::env::var_os("WEFT_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (WEFT_BLESS=1 writes it)", path.display()));
    assert_eq!(
        actual, expected,
        "{name} differs from {GOLDEN}/{name} (WEFT_BLESS=1 rewrites it)"
    );
}

#[test]
fn a_mage_project_imports_with_its_flow_grants_triggers_and_a_report() {
    let mage = mage_copy();
    let into = tempfile::tempdir().unwrap();
    let ran = import(mage.path(), into.path());
    // Some blocks need a hand: the project is written and the exit code says so.
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let mut report = ran.json();
    // Every block of taxi_etl (Mage's API, mage_ai.io, pandas) maps cleanly.
    for b in [
        "load_trips",
        "clean_trips",
        "list_vendors",
        "vendor_summary",
        "trips_per_day",
        "export_trips",
        "has_trips",
        "report_status",
    ] {
        assert_eq!(hands(&report, b), Vec::<String>::new(), "{b}");
    }
    // What needs a hand is named with its file, line and reason.
    let zones = hands(&report, "load_zones");
    assert!(
        zones
            .iter()
            .any(|h| h.starts_with("data_loaders/load_zones.py:1: `numpy` is a native package")),
        "{zones:?}"
    );
    assert!(
        zones
            .iter()
            .any(|h| h
                .starts_with("data_loaders/load_zones.py:2: `requests` opens network connections")),
        "{zones:?}"
    );
    assert!(
        zones.iter().any(|h| h.starts_with(
            "data_loaders/load_zones.py:4: `mage_ai.data_preparation.shared.secrets` is not part"
        )),
        "{zones:?}"
    );
    let model = hands(&report, "fit_model");
    assert!(
        model
            .iter()
            .any(|h| h.contains("an R block cannot run in weft")),
        "{model:?}"
    );
    let writer = hands(&report, "write_report");
    assert!(
        writer.iter().any(|h| h
            .starts_with("data_exporters/write_report.py:9: `os.makedirs` touches the filesystem")),
        "{writer:?}"
    );
    assert!(
        writer
            .iter()
            .any(|h| h
                .starts_with("data_exporters/write_report.py:10: `open` touches the filesystem")),
        "{writer:?}"
    );
    assert!(
        writer
            .iter()
            .any(|h| h.contains("`fit_model`, which it follows or uses, was left out")),
        "{writer:?}"
    );
    // The written project validates, and its files are the golden ones.
    let v = weft()
        .arg("--project")
        .arg(into.path())
        .args(["validate"])
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    for f in [
        "pipelines/taxi_etl/pipeline.yaml",
        "pipelines/taxi_etl/triggers.yaml",
        "pipelines/legacy_report/pipeline.yaml",
    ] {
        let text = std::fs::read_to_string(into.path().join(f)).unwrap();
        let text = text.replace(&mage.path().display().to_string(), "<mage>");
        golden(&f.replace('/', "."), &text);
    }
    // Block files are copied as they are.
    let copied = std::fs::read(into.path().join("blocks/data_exporters/export_trips.py")).unwrap();
    assert_eq!(
        copied,
        std::fs::read(mage.path().join("data_exporters/export_trips.py")).unwrap()
    );
    report["into"] = Value::Null;
    golden(
        "report.json",
        &serde_json::to_string_pretty(&report).unwrap(),
    );
}

#[test]
fn importing_again_keeps_edits_updates_the_rest_and_refuses_edits_on_both_sides() {
    let mage = mage_copy();
    let into = tempfile::tempdir().unwrap();
    assert_eq!(import(mage.path(), into.path()).code, 1);
    let clean = into.path().join("blocks/transformers/clean_trips.py");
    let mine = std::fs::read_to_string(&clean).unwrap() + "\n# tuned in weft\n";
    std::fs::write(&clean, &mine).unwrap();
    // Mage changes another block: it is updated; the weft-side edit is kept.
    let sql = mage.path().join("transformers/trips_per_day.sql");
    std::fs::write(
        &sql,
        std::fs::read_to_string(&sql)
            .unwrap()
            .replace("ORDER BY pickup_date", "ORDER BY 1"),
    )
    .unwrap();
    let again = import(mage.path(), into.path());
    assert_eq!(again.code, 1, "{}", again.stderr);
    let report = again.json();
    assert_eq!(
        report["kept"],
        serde_json::json!(["blocks/transformers/clean_trips.py"])
    );
    assert_eq!(
        report["written"],
        serde_json::json!(["blocks/transformers/trips_per_day.sql"])
    );
    assert_eq!(std::fs::read_to_string(&clean).unwrap(), mine);
    assert!(
        std::fs::read_to_string(into.path().join("blocks/transformers/trips_per_day.sql"))
            .unwrap()
            .contains("ORDER BY 1")
    );
    // Mage changes the edited block too: refused, naming it, and nothing is written.
    let theirs = mage.path().join("transformers/clean_trips.py");
    std::fs::write(
        &theirs,
        std::fs::read_to_string(&theirs).unwrap() + "\n# changed in Mage\n",
    )
    .unwrap();
    std::fs::write(&sql, "SELECT 1 AS one FROM {{ df_1 }}\n").unwrap();
    let refused = import(mage.path(), into.path());
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("blocks/transformers/clean_trips.py"),
        "{}",
        refused.stderr
    );
    assert!(
        std::fs::read_to_string(into.path().join("blocks/transformers/trips_per_day.sql"))
            .unwrap()
            .contains("ORDER BY 1")
    );
}

#[test]
fn what_is_not_a_mage_project_is_refused_by_name() {
    let empty = tempfile::tempdir().unwrap();
    let into = tempfile::tempdir().unwrap();
    let ran = import(empty.path(), into.path());
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("not a Mage project"), "{}", ran.stderr);
    // A block file given as a path out of the Mage project is left out, not copied.
    let sneaky = mage_copy();
    let meta = sneaky.path().join("pipelines/legacy_report/metadata.yaml");
    let text = std::fs::read_to_string(&meta).unwrap().replace(
        "  uuid: load_zones\n",
        "  uuid: load_zones\n  configuration:\n    file_source:\n      path: ../../../../etc/passwd\n",
    );
    std::fs::write(&meta, text).unwrap();
    let out = tempfile::tempdir().unwrap();
    let ran = import(sneaky.path(), out.path());
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let report = ran.json();
    assert!(
        hands(&report, "load_zones")
            .iter()
            .any(|h| h.contains("outside the Mage project")),
        "{report}"
    );
    assert!(!out.path().join("etc").exists() && !out.path().join("blocks/etc").exists());
    // A pipeline folder that is not a weft name (it would reach pipeline.yaml's text) is left
    // out with a note.
    let odd = mage_copy();
    std::fs::rename(
        odd.path().join("pipelines/legacy_report"),
        odd.path().join("pipelines/legacy report"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let ran = import(odd.path(), out.path());
    let report = ran.json();
    assert!(
        report["notes"]
            .to_string()
            .contains("is not a weft pipeline name"),
        "{report}"
    );
    assert!(!out.path().join("pipelines/legacy report").exists());
    // The weft project cannot be the Mage project itself.
    let ran = import(odd.path(), odd.path());
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("a folder of its own"), "{}", ran.stderr);
    let bad = mage_copy();
    std::fs::write(
        bad.path().join("pipelines/taxi_etl/metadata.yaml"),
        "blocks: [oops\n",
    )
    .unwrap();
    let ran = import(bad.path(), into.path());
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("pipelines/taxi_etl/metadata.yaml"),
        "{}",
        ran.stderr
    );
    assert!(
        !into.path().join("pipelines").exists(),
        "nothing is written"
    );
}

#[test]
fn the_imported_mage_project_runs_its_pandas_blocks_and_loads_postgres() {
    let data = tempfile::tempdir().unwrap();
    let counts = crate::io::taxi_file(data.path(), "trips.csv.gz", 6_000);
    let clean = counts["clean"].as_i64().unwrap();
    let http = crate::services::http_server(data.path());
    // The Mage project's variable points at the trips: its grant follows.
    let mage = mage_copy();
    let meta = mage.path().join("pipelines/taxi_etl/metadata.yaml");
    let text = std::fs::read_to_string(&meta).unwrap();
    let url = format!("{}/trips.csv.gz", http.url());
    let text = text.replace(
        "https://github.com/DataTalksClub/nyc-tlc-data/releases/download/yellow/yellow_tripdata_2021-01.csv.gz",
        &url,
    );
    std::fs::write(&meta, text).unwrap();
    let into = tempfile::tempdir().unwrap();
    let ran = import(mage.path(), into.path());
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let db = crate::services::TestDb::new();
    let out = weft()
        .arg("--project")
        .arg(into.path())
        .args(["run", "taxi_etl", "--json"])
        .envs(db.env())
        .output()
        .unwrap();
    let ran = Ran::from(out);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let summary = ran.json();
    assert_eq!(block(&summary, "load_trips")["rows"], counts["rows"]);
    assert_eq!(block(&summary, "clean_trips")["rows"].as_i64(), Some(clean));
    // Mage's exporter loaded Postgres, with the columns the transformer renamed.
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM mage_taxi.trips"),
        clean.to_string()
    );
    let columns = db.column("SELECT column_name FROM information_schema.columns WHERE table_schema = 'mage_taxi' AND table_name = 'trips'");
    for want in [
        "vendor_id",
        "pu_location_id",
        "do_location_id",
        "ratecode_id",
        "pickup_date",
    ] {
        assert!(
            columns.contains(&Some(want.to_string())),
            "{want} not in {columns:?}"
        );
    }
    // The fan-out over vendors reduced to one summary per vendor, adding up.
    let run = summary["run_id"].as_str().unwrap().to_string();
    let p = Project {
        dir: into,
        state_url: None,
    };
    let mut per_vendor: Vec<Value> = Vec::new();
    for child in 0.. {
        let shown = p.weft(&["show", &run, &format!("vendor_summary[{child}]"), "--json"]);
        if shown.code != 0 {
            assert!(shown.stderr.contains("no block"), "{}", shown.stderr);
            break;
        }
        per_vendor.extend(serde_json::from_str::<Vec<Value>>(&shown.stdout).unwrap());
    }
    let in_db: i64 = db
        .scalar("SELECT count(DISTINCT vendor_id)::text FROM mage_taxi.trips")
        .parse()
        .unwrap();
    assert_eq!(per_vendor.len() as i64, in_db, "{per_vendor:?}");
    let with_vendor: i64 = db
        .scalar("SELECT count(*)::text FROM mage_taxi.trips WHERE vendor_id IS NOT NULL")
        .parse()
        .unwrap();
    assert_eq!(
        per_vendor
            .iter()
            .map(|v| v["trips"].as_i64().unwrap())
            .sum::<i64>(),
        with_vendor
    );
    // The SQL block ran in Postgres over the cleaned trips; the callback told of the success.
    let days = p.weft(&["show", &run, "trips_per_day", "--json", "--rows", "100"]);
    let days: Vec<Value> = serde_json::from_str(&days.stdout).unwrap();
    let in_db: i64 = db
        .scalar("SELECT count(DISTINCT pickup_date)::text FROM mage_taxi.trips")
        .parse()
        .unwrap();
    assert_eq!(days.len() as i64, in_db);
    let logs = p.logs(&run);
    let said = log_lines(&logs, "report_status(clean_trips)").join("\n")
        + &log_lines(&logs, "report_status").join("\n");
    assert!(
        said.contains(&format!("cleaned {clean} trips for taxi_etl")),
        "{said}"
    );
}
