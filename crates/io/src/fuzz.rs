//! Property tests of the readers of untrusted bytes and options: whatever a file holds and
//! whatever options JSON a block passes, `read` answers a table or an error naming the
//! problem, never a panic. `PROPTEST_CASES` sets how many cases run (see `bench/fuzz.md`).

use std::io::Write;
use std::sync::Arc;

use proptest::prelude::*;
use weft_pipeline::Grants;

use crate::{IoContext, Profiles};

fn project() -> (tempfile::TempDir, crate::BlockIo) {
    let dir = tempfile::tempdir().unwrap();
    let ctx = Arc::new(
        IoContext::new(
            dir.path().to_path_buf(),
            dir.path().join("local"),
            Profiles::empty(),
        )
        .unwrap(),
    );
    let grants = Grants {
        urls: vec!["file://data/".into()],
        ..Grants::default()
    };
    let io = ctx.for_block("fuzz", &grants);
    std::fs::create_dir(dir.path().join("data")).unwrap();
    (dir, io)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Text shaped like CSV: a few columns of numbers, words, quotes, blanks and dates.
fn csv_text() -> impl Strategy<Value = String> {
    let cell = prop_oneof![
        "-?[0-9]{1,6}",
        "-?[0-9]{1,4}\\.[0-9]{0,3}",
        "[a-z ]{0,6}",
        "\"[a-z,\"\n]{0,6}\"",
        Just(String::new()),
        Just("2021-01-0".to_string() + "1 00:15:56"),
        Just("NaN".to_string()),
        "[ -~]{0,4}",
    ];
    proptest::collection::vec(proptest::collection::vec(cell, 1..5), 0..30).prop_map(|rows| {
        rows.iter()
            .map(|r| r.join(","))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn options() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{}".to_string()),
        Just("{\"header\": false}".to_string()),
        Just("{\"on_bad_lines\": \"skip\"}".to_string()),
        Just("{\"dtype\": {\"a\": \"Int64\", \"b\": \"float\"}}".to_string()),
        Just("{\"parse_dates\": [\"a\"]}".to_string()),
        Just("{\"delimiter\": \";\"}".to_string()),
        Just("{\"batch_size\": 1}".to_string()),
        Just("{\"batch_size\": 0}".to_string()),
        Just("{\"batch_size\": 18446744073709551615}".to_string()),
        Just("{\"dtype\": {\"a\": \"Decimal128(76, 90)\"}}".to_string()),
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: ProptestConfig::default().cases.min(128), ..ProptestConfig::default() })]

    #[test]
    fn any_file_reads_as_a_table_or_an_error(
        bytes in proptest::collection::vec(any::<u8>(), 0..1024),
        format in prop_oneof![Just("csv"), Just("csv.gz"), Just("ndjson"), Just("parquet"), Just("arrow")],
        zipped in any::<bool>(),
    ) {
        let (dir, io) = project();
        let body = if zipped { gzip(&bytes) } else { bytes };
        std::fs::write(dir.path().join("data/x.bin"), body).unwrap();
        let _ = io.read("file://data/x.bin", &format!("{{\"format\": \"{format}\"}}"));
    }

    #[test]
    fn csv_shaped_text_reads_as_a_table_or_an_error(text in csv_text(), options in options(), zipped in any::<bool>()) {
        let (dir, io) = project();
        let (name, body) = if zipped {
            ("x.csv.gz", gzip(text.as_bytes()))
        } else {
            ("x.csv", text.into_bytes())
        };
        std::fs::write(dir.path().join("data").join(name), body).unwrap();
        if let Err(e) = io.read(&format!("file://data/{name}"), &options) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn ndjson_shaped_text_reads_as_a_table_or_an_error(
        lines in proptest::collection::vec(prop_oneof![
            Just("{\"a\": 1, \"b\": \"x\"}".to_string()),
            Just("{\"a\": null}".to_string()),
            Just("{\"a\": [1, {\"c\": 2}]}".to_string()),
            Just("{\"a\": \"1\"}".to_string()),
            Just("[]".to_string()),
            Just(String::new()),
            "[ -~]{0,12}",
        ], 0..20),
        options in options(),
    ) {
        let (dir, io) = project();
        std::fs::write(dir.path().join("data/x.ndjson"), lines.join("\n")).unwrap();
        let _ = io.read("file://data/x.ndjson", &options);
    }
}
