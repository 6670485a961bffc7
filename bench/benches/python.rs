//! Python blocks: the taxi clean-up on 1.4 M rows as a Python block (table operations in the
//! host engine) against the same transform as a Rust block (arrow kernels in the guest);
//! plus a Python block's size, build time (cold and cached) and per-run instantiation.
//!
//! Target: the Python block within 1.5× of the Rust block.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use weft_data::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use weft_data::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use weft_data::Table;
use weft_runtime::{BlockCall, LogLevel, LogSink};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROWS: usize = 1_400_000;

struct Discard;

impl LogSink for Discard {
    fn log(&self, _: LogLevel, _: String) {}
}

/// 1.4 M yellow-taxi-like rows with the real 18 column names.
fn taxi() -> Table {
    let ints = |f: &dyn Fn(usize) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values((0..ROWS).map(f)))
    };
    let floats = |f: &dyn Fn(usize) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values((0..ROWS).map(f)))
    };
    let start = 1_609_459_200_000_000i64; // 2021-01-01 UTC, µs
    let times = |offset: i64| -> ArrayRef {
        Arc::new(TimestampMicrosecondArray::from_iter_values(
            (0..ROWS).map(|i| start + i as i64 * 1_850_000 + offset),
        ))
    };
    let ts = DataType::Timestamp(TimeUnit::Microsecond, None);
    let fields = vec![
        Field::new("VendorID", DataType::Int64, false),
        Field::new("tpep_pickup_datetime", ts.clone(), false),
        Field::new("tpep_dropoff_datetime", ts, false),
        Field::new("passenger_count", DataType::Int64, false),
        Field::new("trip_distance", DataType::Float64, false),
        Field::new("RatecodeID", DataType::Int64, false),
        Field::new("store_and_fwd_flag", DataType::Utf8, false),
        Field::new("PULocationID", DataType::Int64, false),
        Field::new("DOLocationID", DataType::Int64, false),
        Field::new("payment_type", DataType::Int64, false),
        Field::new("fare_amount", DataType::Float64, false),
        Field::new("extra", DataType::Float64, false),
        Field::new("mta_tax", DataType::Float64, false),
        Field::new("tip_amount", DataType::Float64, false),
        Field::new("tolls_amount", DataType::Float64, false),
        Field::new("improvement_surcharge", DataType::Float64, false),
        Field::new("total_amount", DataType::Float64, false),
        Field::new("congestion_surcharge", DataType::Float64, false),
    ];
    let columns: Vec<ArrayRef> = vec![
        ints(&|i| 1 + (i % 2) as i64),
        times(0),
        times(900_000_000),
        ints(&|i| (i % 7) as i64),
        floats(&|i| ((i * 37) % 200) as f64 / 10.0),
        ints(&|_| 1),
        Arc::new(StringArray::from_iter_values((0..ROWS).map(|i| {
            if i % 50 == 0 {
                "Y"
            } else {
                "N"
            }
        }))),
        ints(&|i| (i % 265) as i64),
        ints(&|i| ((i * 7) % 265) as i64),
        ints(&|i| (i % 4) as i64 + 1),
        floats(&|i| (i % 60) as f64 + 2.5),
        floats(&|_| 0.5),
        floats(&|_| 0.5),
        floats(&|i| (i % 5) as f64),
        floats(&|_| 0.0),
        floats(&|_| 0.3),
        floats(&|i| (i % 60) as f64 + 9.3),
        floats(&|_| 2.5),
    ];
    let batches: Vec<RecordBatch> = {
        let full = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        (0..ROWS)
            .step_by(65_536)
            .map(|o| full.slice(o, 65_536.min(ROWS - o)))
            .collect()
    };
    Table::new(batches[0].schema(), batches).unwrap()
}

fn call(inputs: Vec<(String, Table)>) -> BlockCall {
    BlockCall {
        block: "clean".into(),
        config: "{}".into(),
        inputs,
        variables: Arc::new(BTreeMap::new()),
        env: vec![],
        memory_limit: 4 << 30,
        read_limit: 1 << 34,
        timeout: Duration::from_secs(300),
        log: Arc::new(Discard),
        cancel: Default::default(),
        io: None,
        peak_memory: Default::default(),
    }
}

fn clean(c: &mut Criterion) {
    let repo = weft_bench::repo();
    let started = Instant::now();
    let py = weft_bench::build(&repo.join("bench/blocks/py_clean.py"));
    let cold = started.elapsed();
    let started = Instant::now();
    let again = weft_bench::build_in(&py.dir, &repo.join("bench/blocks/py_clean.py"));
    let cached = started.elapsed();
    let size = std::fs::metadata(&again.probe.wasm)
        .map(|m| m.len())
        .unwrap_or(0);
    eprintln!(
        "python block: component {:.1} MB, cold build {:.1} s (componentize + native compile), cached build {:.1} ms",
        size as f64 / 1e6,
        cold.as_secs_f64(),
        cached.as_secs_f64() * 1e3
    );
    let rust = weft_bench::build(&repo.join("bench/blocks/rust_clean"));
    let table = taxi();
    let (py_component, rust_component) = (py.load(), rust.load());
    let expected = {
        let out = rust
            .runtime
            .invoke(&rust_component, call(vec![("trips".into(), table.clone())]))
            .unwrap();
        out.table.unwrap().num_rows()
    };
    let got = py
        .runtime
        .invoke(&py_component, call(vec![("trips".into(), table.clone())]))
        .unwrap();
    assert_eq!(
        got.table.unwrap().num_rows(),
        expected,
        "Python and Rust blocks disagree"
    );

    let mut g = c.benchmark_group("taxi clean-up, 1.4 M rows");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("python block (host engine)", |b| {
        b.iter(|| {
            py.runtime
                .invoke(&py_component, call(vec![("trips".into(), table.clone())]))
                .unwrap()
        })
    });
    g.bench_function("rust block (arrow in the guest)", |b| {
        b.iter(|| {
            rust.runtime
                .invoke(&rust_component, call(vec![("trips".into(), table.clone())]))
                .unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("python instantiate");
    g.bench_function("instantiate + run on an empty table", |b| {
        b.iter(|| {
            py.runtime
                .invoke(
                    &py_component,
                    call(vec![("trips".into(), empty_taxi(&table))]),
                )
                .unwrap()
        })
    });
    g.finish();
}

fn empty_taxi(t: &Table) -> Table {
    Table::new(t.schema().clone(), vec![]).unwrap()
}

criterion_group!(benches, clean);
criterion_main!(benches);
