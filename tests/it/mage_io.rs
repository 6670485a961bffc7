//! Mage's `mage_ai.io` classes inside the sandbox, against real servers: a Mage project whose
//! blocks export and load through `GoogleCloudStorage` (fake-gcs-server), `S3` (moto),
//! `BigQuery` (bqemulator) and `FileIO`, imported by `weft import mage` (which derives their
//! grants) and run.

use std::path::Path;

use serde_json::json;

use crate::services::*;
use crate::support::*;

const HEADER: &str = "from mage_ai.io.config import ConfigFileLoader\nfrom mage_ai.settings.repo import get_repo_path\nfrom os import path\nimport pandas as pd\n\nif 'data_exporter' not in globals():\n    from mage_ai.data_preparation.decorators import data_exporter\nif 'data_loader' not in globals():\n    from mage_ai.data_preparation.decorators import data_loader\n\n";

/// A Mage project: `rows` makes a frame; each store gets an exporter and a loader after it.
fn mage_project(root: &Path) {
    let block = |dir: &str, name: &str, body: &str| {
        write(
            root,
            &format!("{dir}/{name}.py"),
            &format!("{HEADER}{body}"),
        );
    };
    block("data_loaders", "rows", "@data_loader\ndef load(*args, **kwargs):\n    return pd.DataFrame({'id': [1, 2, 3], 'city': ['Amsterdam', 'Berlin', None], 'fare': [12.5, 7.0, 30.25]})\n");
    let config = "ConfigFileLoader(path.join(get_repo_path(), 'io_config.yaml'), ";
    block("data_exporters", "to_gcs", &format!("from mage_ai.io.google_cloud_storage import GoogleCloudStorage\n\n\n@data_exporter\ndef export(df, **kwargs):\n    GoogleCloudStorage.with_config({config}'gcs')).export(df, 'lake', 'mage/rows.parquet')\n"));
    block("data_loaders", "from_gcs", &format!("from mage_ai.io.google_cloud_storage import GoogleCloudStorage\n\n\n@data_loader\ndef load(*args, **kwargs):\n    bucket = {config}'gcs')['GCS_BUCKET']\n    assert bucket == 'lake', bucket\n    return GoogleCloudStorage.with_config({config}'gcs')).load('lake', 'mage/rows.parquet')\n"));
    block("data_exporters", "to_s3", &format!("from mage_ai.io.s3 import S3\n\n\n@data_exporter\ndef export(df, **kwargs):\n    S3.with_config({config}'s3')).export(df, 'warehouse', 'mage/rows.csv')\n"));
    block("data_loaders", "from_s3", &format!("from mage_ai.io.s3 import S3\n\n\n@data_loader\ndef load(*args, **kwargs):\n    return S3.with_config({config}'s3')).load('warehouse', 'mage/rows.csv')\n"));
    block("data_exporters", "to_bigquery", &format!("from mage_ai.io.bigquery import BigQuery\n\n\n@data_exporter\ndef export(df, **kwargs):\n    BigQuery.with_config({config}'gcs')).export(df, 'test-proj.mage.rows', if_exists='replace')\n"));
    block("data_exporters", "to_file", "from mage_ai.io.file import FileIO\n\n\n@data_exporter\ndef export(df, **kwargs):\n    FileIO().export(df, 'out/rows.csv')\n");
    block("data_loaders", "from_file", "from mage_ai.io.file import FileIO\n\n\n@data_loader\ndef load(*args, **kwargs):\n    return FileIO().load('out/rows.csv')\n");
    let entry = |uuid: &str, kind: &str, up: &[&str]| {
        format!("- uuid: {uuid}\n  name: {uuid}\n  type: {kind}\n  language: python\n  upstream_blocks: {}\n", json!(up))
    };
    let mut meta = String::from("name: stores\ntype: python\nblocks:\n");
    for (uuid, kind, up) in [
        ("rows", "data_loader", vec![]),
        ("to_gcs", "data_exporter", vec!["rows"]),
        ("from_gcs", "data_loader", vec!["to_gcs"]),
        ("to_s3", "data_exporter", vec!["rows"]),
        ("from_s3", "data_loader", vec!["to_s3"]),
        ("to_bigquery", "data_exporter", vec!["rows"]),
        ("to_file", "data_exporter", vec!["rows"]),
        ("from_file", "data_loader", vec!["to_file"]),
    ] {
        meta.push_str(&entry(uuid, kind, &up));
    }
    write(root, "pipelines/stores/metadata.yaml", &meta);
    write(
        root,
        "io_config.yaml",
        "version: 0.1.1\ngcs:\n  GCS_BUCKET: lake\n  GCS_ENDPOINT: \"{{ env_var('GCS_ENDPOINT') }}\"\n  BIGQUERY_PROJECT: test-proj\n  BIGQUERY_DATASET: mage\n  BIGQUERY_ENDPOINT: \"{{ env_var('BIGQUERY_ENDPOINT') }}\"\ns3:\n  AWS_ENDPOINT: \"{{ env_var('AWS_ENDPOINT') }}\"\n  AWS_ACCESS_KEY_ID: weft-test-key\n  AWS_SECRET_ACCESS_KEY: weft-test-secret\n  AWS_REGION: us-east-1\n",
    );
}

#[test]
fn mage_io_classes_export_and_load_through_the_granted_stores() {
    let Clouds {
        gcs_root,
        gcs,
        bq,
        s3,
    } = clouds();
    let mage = tempfile::tempdir().unwrap();
    mage_project(mage.path());
    let into = tempfile::tempdir().unwrap();
    let ran: Ran = weft()
        .args(["import", "mage"])
        .arg(mage.path())
        .arg("--into")
        .arg(into.path())
        .arg("--json")
        .output()
        .unwrap()
        .into();
    assert_eq!(
        ran.code, 0,
        "every block maps cleanly:\n{}\n{}",
        ran.stdout, ran.stderr
    );
    // The grants come from the code: each store, bucket, key and table named there, no wider.
    let manifest =
        std::fs::read_to_string(into.path().join("pipelines/stores/pipeline.yaml")).unwrap();
    for grant in [
        "gs://lake/mage/rows.parquet",
        "s3://warehouse/mage/rows.csv",
        "bigquery://gcs/mage.rows",
        "file://out/rows.csv",
    ] {
        assert!(manifest.contains(grant), "{grant} not in\n{manifest}");
    }
    let env: Vec<(String, String)> = [
        ("GCS_ENDPOINT", gcs.url()),
        ("BIGQUERY_ENDPOINT", bq.url()),
        ("AWS_ENDPOINT", s3.url()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let out = weft()
        .arg("--project")
        .arg(into.path())
        .args(["run", "stores", "--json"])
        .envs(env)
        .output()
        .unwrap();
    let ran = Ran::from(out);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let summary = ran.json();
    for b in ["from_gcs", "from_s3", "from_file"] {
        assert_eq!(block(&summary, b)["rows"], 3, "{b}: {summary}");
    }
    assert!(gcs_root.path().join("lake/mage/rows.parquet").is_file());
    assert!(into.path().join("out/rows.csv").is_file());
    let (status, answer) = http_json(
        "POST",
        &format!("{}/bigquery/v2/projects/test-proj/queries", bq.url()),
        Some(
            json!({"query": "SELECT COUNT(*) AS n, SUM(fare) AS f FROM mage.rows", "useLegacySql": false}),
        ),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rows"][0]["f"][0]["v"], "3", "{answer}");
    // What was loaded back is what was exported.
    let p = Project {
        dir: into,
        state_url: None,
    };
    let run = summary["run_id"].as_str().unwrap().to_string();
    let back = p.weft(&["show", &run, "from_s3", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&back.stdout).unwrap();
    assert_eq!(rows[1]["city"], "Berlin", "{rows:?}");
    assert_eq!(rows[2]["fare"], 30.25, "{rows:?}");
}
