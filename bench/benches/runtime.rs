//! Runtime benchmarks: per-block dispatch, a 1,000-block chain end to end, and copying a
//! 100 MiB Arrow table into a block and back.
//!
//! Targets: dispatch ≤ 100 µs; chain ≤ 1 s; copy ≥ 2 GB/s.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use weft_data::arrow::array::{Int64Array, RecordBatch};
use weft_data::arrow::datatypes::{DataType, Field, Schema};
use weft_data::Table;
use weft_runtime::{BlockCall, LogLevel, LogSink};
use weft_schedule::{Executor, Outputs, Quiet, RunRequest};
use weft_store::{RunStatus, Store};

// The same allocator as the `weft` binary: large buffers are reused, not page-faulted anew.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Discard;

impl LogSink for Discard {
    fn log(&self, _: LogLevel, _: String) {}
}

fn call(mode: &str, inputs: Vec<(String, Table)>) -> BlockCall {
    BlockCall {
        block: "probe".into(),
        config: format!(r#"{{"mode":"{mode}"}}"#),
        inputs,
        variables: Arc::new(BTreeMap::new()),
        env: vec![],
        memory_limit: 2 << 30,
        read_limit: 1 << 34,
        timeout: Duration::from_secs(60),
        log: Arc::new(Discard),
        cancel: Default::default(),
        io: None,
        peak_memory: Default::default(),
    }
}

fn dispatch(c: &mut Criterion) {
    let fx = weft_bench::fixture();
    let component = fx.load();
    let mut g = c.benchmark_group("dispatch");
    g.bench_function("instantiate + run + empty table round trip", |b| {
        b.iter(|| {
            let out = fx
                .runtime
                .invoke(
                    &component,
                    call("copy", vec![("in".into(), Table::empty())]),
                )
                .unwrap();
            assert_eq!(out.table.unwrap().num_rows(), 0);
        })
    });
    g.finish();
}

fn big_table(bytes: usize) -> Table {
    let rows = bytes / 8;
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(
        schema,
        vec![Arc::new(Int64Array::from_iter_values(0..rows as i64))],
    )
    .unwrap();
    Table::from_batch(batch)
}

fn copy_100mib(c: &mut Criterion) {
    let fx = weft_bench::fixture();
    let component = fx.load();
    let size = 100 << 20;
    let table = big_table(size);
    let mut g = c.benchmark_group("copy");
    g.sample_size(20).measurement_time(Duration::from_secs(15));
    g.throughput(Throughput::Bytes(size as u64));
    g.bench_function("100 MiB table into a block and back", |b| {
        b.iter(|| {
            let out = fx
                .runtime
                .invoke(&component, call("copy", vec![("in".into(), table.clone())]))
                .unwrap();
            assert_eq!(out.table.unwrap().num_rows(), table.num_rows());
        })
    });
    g.finish();
}

fn chain_1000(c: &mut Criterion) {
    let fx = weft_bench::fixture();
    let mut yaml = String::from("concurrency: 4\nblocks:\n");
    for i in 0..1000 {
        let upstream = if i == 0 {
            String::new()
        } else {
            format!(", upstream: [b{}]", i - 1)
        };
        yaml.push_str(&format!(
            "  - {{ name: b{i}, kind: transformer, source: {}, config: {{ mode: noop }}{upstream} }}\n",
            fx.probe.wasm.display()
        ));
    }
    let file = fx.dir.path().join("pipelines/chain/pipeline.yaml");
    let pipeline = Arc::new(weft_pipeline::parse(&yaml, &file, fx.dir.path(), "chain").unwrap());
    let components: HashMap<String, _> = pipeline
        .blocks
        .iter()
        .map(|b| (b.name.clone(), fx.probe.clone()))
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        fx.dir.path().join("state.db").display()
    );
    let store = rt.block_on(Store::connect(&url)).unwrap();
    let outputs = Outputs::local(&fx.dir.path().join("objects")).unwrap();
    let exec = Executor::new(fx.runtime.clone(), store, outputs);
    let mut g = c.benchmark_group("chain");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("1000 no-op blocks end to end (SQLite state)", |b| {
        b.iter(|| {
            let summary = rt
                .block_on(exec.run(
                    RunRequest {
                        pipeline: pipeline.clone(),
                        components: components.clone(),
                        variables: BTreeMap::new(),
                        trigger: "bench".into(),
                        run_id: None,
                        recorded: false,
                        cancel: Default::default(),
                        borrow: None,
                    },
                    Arc::new(Quiet),
                ))
                .unwrap();
            assert_eq!(summary.status, RunStatus::Success);
        })
    });
    g.finish();
}

criterion_group!(benches, dispatch, copy_100mib, chain_1000);
criterion_main!(benches);
