//! Control flow: a fan-out of 10,000 no-op Rust children gathered by a reduce, the same with
//! 1,000 Python children, each against the same number of block runs without a fan-out (a
//! 1,000-block Rust chain, run in the same invocation) as the baseline. Prints the host's peak
//! resident memory after the fan-outs.
//!
//! Targets: 10,000 children ≤ 2 s and ≤ 500 MB; a Python child ≤ 2 ms.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use weft_schedule::{ComponentRef, Executor, Outputs, Quiet, RunRequest};
use weft_store::{RunStatus, Store};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A pipeline over one component, ready to run again and again.
struct Bench {
    rt: tokio::runtime::Runtime,
    exec: Executor,
    pipeline: Arc<weft_pipeline::Pipeline>,
    components: HashMap<String, ComponentRef>,
    _dir: tempfile::TempDir,
}

impl Bench {
    fn new(fx: &weft_bench::Fixture, yaml: &str) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pipelines/b/pipeline.yaml");
        let pipeline = Arc::new(weft_pipeline::parse(yaml, &file, dir.path(), "b").unwrap());
        let components = pipeline
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
            dir.path().join("state.db").display()
        );
        let store = rt.block_on(Store::connect(&url)).unwrap();
        let outputs = Outputs::local(&dir.path().join("objects")).unwrap();
        let exec = Executor::new(fx.runtime.clone(), store, outputs);
        Bench {
            rt,
            exec,
            pipeline,
            components,
            _dir: dir,
        }
    }

    fn run(&self) {
        let summary = self
            .rt
            .block_on(self.exec.run(
                RunRequest {
                    pipeline: self.pipeline.clone(),
                    components: self.components.clone(),
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
    }
}

fn fan_out(source: &str, children: usize) -> String {
    format!(
        "concurrency: 4\nblocks:\n  - {{ name: ids, kind: loader, source: {source}, dynamic: true, config: {{ mode: rows, rows: {children} }} }}\n  - {{ name: each, kind: transformer, source: {source}, upstream: [ids], reduce: true, config: {{ mode: noop }} }}\n  - {{ name: after, kind: exporter, source: {source}, upstream: [each], config: {{ mode: noop }} }}\n"
    )
}

fn chain(source: &str, n: usize) -> String {
    let mut yaml = String::from("concurrency: 4\nblocks:\n");
    for i in 0..n {
        let upstream = if i == 0 {
            String::new()
        } else {
            format!(", upstream: [b{}]", i - 1)
        };
        yaml.push_str(&format!(
            "  - {{ name: b{i}, kind: transformer, source: {source}, config: {{ mode: noop }}{upstream} }}\n"
        ));
    }
    yaml
}

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb >> 10)
}

fn rust_children(c: &mut Criterion) {
    let fx = weft_bench::fixture();
    let source = fx.probe.wasm.display().to_string();
    let fan = Bench::new(&fx, &fan_out(&source, 10_000));
    let base = Bench::new(&fx, &chain(&source, 1_000));
    let mut g = c.benchmark_group("fan_out");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    g.bench_function("baseline: 1,000-block Rust chain", |b| {
        b.iter(|| base.run())
    });
    g.bench_function("10,000 Rust children + reduce", |b| b.iter(|| fan.run()));
    g.finish();
    eprintln!("peak RSS after the Rust fan-outs: {} MiB", peak_rss_mib());
}

fn python_children(c: &mut Criterion) {
    let fx = weft_bench::build(&weft_bench::repo().join("tests/blocks/python/py_probe.py"));
    let source = fx.probe.wasm.display().to_string();
    let fan = Bench::new(&fx, &fan_out(&source, 1_000));
    let mut g = c.benchmark_group("fan_out");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    g.bench_function("1,000 Python children + reduce", |b| b.iter(|| fan.run()));
    g.finish();
}

criterion_group!(benches, rust_children, python_children);
criterion_main!(benches);
