//! Property tests of the decoders of untrusted table bytes (Arrow IPC and JSON rows a guest
//! hands the host): whatever the bytes, the answer is a table or an error, never a panic.
//! `PROPTEST_CASES` sets how many cases run (256 by default; see `bench/fuzz.md` for a long run).

use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::Table;

fn valid_ipc() -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]));
    let b = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from_iter_values(0..50)),
            Arc::new(StringArray::from_iter(
                (0..50).map(|i| (i % 3 != 0).then(|| format!("name-{i}"))),
            )),
        ],
    )
    .unwrap();
    Table::from_batch(b).to_ipc(None).unwrap()
}

proptest! {
    #[test]
    fn any_bytes_are_a_table_or_malformed(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Table::from_ipc(bytes);
    }

    #[test]
    fn a_damaged_stream_is_a_table_or_malformed(
        edits in proptest::collection::vec((any::<Index>(), any::<u8>()), 1..12),
        cut in any::<Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = valid_ipc();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            let n = cut.index(bytes.len());
            bytes.truncate(n);
        }
        if let Ok(t) = Table::from_ipc(bytes) {
            // A table that decodes is whole: it encodes again.
            prop_assert!(t.to_ipc(None).is_ok());
        }
    }

    #[test]
    fn any_json_text_is_rows_or_invalid(text in any::<String>()) {
        let _ = Table::from_json(&text);
    }

    #[test]
    fn json_shaped_text_is_rows_or_invalid(
        rows in proptest::collection::vec(
            proptest::collection::btree_map("[a-c]", prop_oneof![
                Just(serde_json::Value::Null),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<f64>().prop_map(serde_json::Value::from),
                "[ -~]{0,8}".prop_map(serde_json::Value::from),
                any::<bool>().prop_map(serde_json::Value::from),
                Just(serde_json::json!([1, "x", null])),
                Just(serde_json::json!({"nested": {"deeper": [1.5]}})),
            ], 0..4),
            0..20,
        )
    ) {
        let text = serde_json::to_string(&rows).unwrap();
        match Table::from_json(&text) {
            Ok(t) if rows.iter().all(|r| !r.is_empty()) => {
                prop_assert_eq!(t.num_rows(), rows.len() as u64);
            }
            _ => {}
        }
    }
}
