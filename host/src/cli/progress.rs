//! Live progress: indicatif bars on a terminal, one line per event otherwise.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use weft_pipeline::Pipeline;
use weft_runtime::LogLevel;
use weft_schedule::{Event, Observer};
use weft_store::BlockStatus;

use super::render;
use crate::build::BuildObserver;

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner:.cyan} {prefix:<24.bold} {msg} {elapsed:.dim}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn transfer_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner:.cyan} {prefix:<24.bold} [{bar:28.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

fn done_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:<26.bold} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// Shows each block of a run: waiting, running (attempt n), done with rows and time.
pub struct RunProgress {
    multi: Option<MultiProgress>,
    bars: HashMap<String, ProgressBar>,
    width: usize,
    lock: Mutex<()>,
    /// Per fan-out block: its children running and ended, by status.
    children: Mutex<HashMap<String, Children>>,
}

/// A fan-out block's children so far.
#[derive(Default)]
struct Children {
    running: usize,
    ended: Vec<(BlockStatus, usize)>,
}

impl Children {
    fn line(&self) -> String {
        let mut parts = vec![format!("{} running", self.running)];
        parts.extend(self.ended.iter().map(|(s, n)| format!("{n} {s}")));
        format!("children: {}", parts.join(", "))
    }

    fn ended(&mut self, status: BlockStatus) {
        self.running = self.running.saturating_sub(1);
        match self.ended.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => self.ended.push((status, 1)),
        }
    }
}

impl RunProgress {
    /// Progress for `pipeline`'s blocks.
    pub fn new(pipeline: &Pipeline) -> Self {
        let tty = std::io::stderr().is_terminal();
        let multi = tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let mut bars = HashMap::new();
        if let Some(m) = &multi {
            for b in pipeline.blocks.iter().filter(|b| !b.is_attached()) {
                let bar = m.add(ProgressBar::new_spinner());
                bar.set_style(done_style());
                bar.set_prefix(format!("  {}", b.name));
                bar.set_message("waiting");
                bars.insert(b.name.clone(), bar);
            }
        }
        let width = pipeline
            .blocks
            .iter()
            .map(|b| b.name.len())
            .max()
            .unwrap_or(8);
        RunProgress {
            multi,
            bars,
            width,
            lock: Mutex::new(()),
            children: Mutex::new(HashMap::new()),
        }
    }

    /// A child of a fan-out started or ended: counted on its block's bar; on a plain
    /// stream only failures are printed. True when `key` is a child.
    fn child(&self, key: &str, ended: Option<(BlockStatus, &str)>) -> bool {
        let Some((block, _)) = key.split_once('[') else {
            return false;
        };
        let mut all = self.children.lock().unwrap_or_else(|e| e.into_inner());
        let c = all.entry(block.to_string()).or_default();
        match ended {
            None => c.running += 1,
            Some((status, _)) => c.ended(status),
        }
        match (self.bars.get(block), ended) {
            (Some(bar), _) => {
                bar.set_style(spinner_style());
                bar.set_prefix(block.to_string());
                bar.set_message(c.line());
                bar.enable_steady_tick(Duration::from_millis(100));
            }
            (None, Some((status, detail))) if status != BlockStatus::Success => {
                drop(all);
                let w = self.width;
                self.line(format!("{} {key:<w$} {detail}", outcome(status)));
            }
            _ => {}
        }
        true
    }

    /// Leave the final state on screen.
    pub fn finish(&self) {
        for bar in self.bars.values() {
            if !bar.is_finished() {
                bar.finish();
            }
        }
    }

    fn line(&self, text: String) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(text);
            }
            None => {
                let _guard = self.lock.lock();
                eprintln!("{text}");
            }
        }
    }
}

fn outcome(status: BlockStatus) -> &'static str {
    match status {
        BlockStatus::Success => "✔",
        BlockStatus::UpstreamFailed | BlockStatus::Cancelled | BlockStatus::Skipped => "-",
        _ => "✘",
    }
}

impl RunProgress {
    /// A block run ended: its bar (or line) shows how; a child counts on its block's bar.
    fn finished(&self, s: &weft_schedule::BlockSummary) {
        let w = self.width;
        let detail = match s.status {
            BlockStatus::Success => format!(
                "{} rows in {}",
                s.rows.map(|r| r.to_string()).unwrap_or_else(|| "no".into()),
                render::duration(s.duration)
            ),
            _ => format!(
                "{}: {}",
                s.status,
                s.error
                    .as_deref()
                    .and_then(|e| e.lines().next())
                    .unwrap_or("")
            ),
        };
        if s.block.contains('[') {
            self.child(&s.block, Some((s.status, &detail)));
            return;
        }
        match self.bars.get(&s.block) {
            Some(bar) => {
                bar.set_style(done_style());
                bar.set_prefix(format!("{} {}", outcome(s.status), s.block));
                bar.finish_with_message(detail);
            }
            None => self.line(format!("{} {:<w$} {detail}", outcome(s.status), s.block)),
        }
    }
}

impl Observer for RunProgress {
    fn event(&self, event: &Event) {
        let w = self.width;
        match event {
            Event::RunStarted { run_id, blocks } => {
                self.line(format!("run {run_id}: {} blocks", blocks.len()));
            }
            Event::BlockStarted { block, attempt: 1 } if self.child(block, None) => {}
            Event::BlockStarted { block, attempt } => match self.bars.get(block) {
                Some(bar) => {
                    bar.set_style(spinner_style());
                    bar.set_prefix(block.clone());
                    bar.set_message(if *attempt > 1 {
                        format!("running (attempt {attempt})")
                    } else {
                        "running".into()
                    });
                    bar.reset_elapsed();
                    bar.enable_steady_tick(Duration::from_millis(100));
                }
                None => self.line(format!("▶ {block:<w$} started (attempt {attempt})")),
            },
            Event::BlockRetrying {
                block,
                attempt,
                error,
                delay,
            } => {
                self.line(format!(
                    "↻ {block:<w$} attempt {attempt} failed, retrying in {}: {}",
                    render::duration(*delay),
                    error.lines().next().unwrap_or("")
                ));
                if let Some(bar) = self.bars.get(block) {
                    bar.set_message("retrying");
                }
            }
            Event::BlockFinished { summary: s } => self.finished(s),
            Event::Transfer {
                block,
                label,
                done,
                total,
            } => match self.bars.get(block) {
                Some(bar) => match total {
                    Some(t) if *t > 0 => {
                        if bar.length() != Some(*t) {
                            bar.set_style(transfer_style());
                            bar.set_length(*t);
                            bar.set_message(short(label));
                        }
                        bar.set_position(*done);
                    }
                    _ => bar.set_message(format!(
                        "{} {}",
                        short(label),
                        indicatif::HumanBytes(*done)
                    )),
                },
                None if *done == 0 => self.line(format!(
                    "  [{block}] reading {label}{}",
                    total
                        .map(|t| format!(" ({})", indicatif::HumanBytes(t)))
                        .unwrap_or_default()
                )),
                None => {}
            },
            Event::Log {
                block,
                level,
                message,
            } => {
                if *level >= LogLevel::Info {
                    self.line(format!("  [{block}] {message}"));
                }
            }
        }
    }
}

/// The last part of a URL, for a narrow progress line.
fn short(label: &str) -> String {
    label.rsplit('/').next().unwrap_or(label).to_string()
}

/// Shows block compilation: a spinner per compiled source with the crate being compiled.
pub struct BuildProgress {
    bar: Mutex<Option<ProgressBar>>,
    counts: Mutex<(usize, usize)>,
}

impl BuildProgress {
    /// A build display.
    pub fn new() -> Self {
        BuildProgress {
            bar: Mutex::new(None),
            counts: Mutex::new((0, 0)),
        }
    }

    /// `(compiled, cached)` sources so far.
    pub fn counts(&self) -> (usize, usize) {
        *self.counts.lock().expect("counts lock")
    }
}

impl BuildObserver for BuildProgress {
    fn compiling(&self, block: &str, source: &str) {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(spinner_style());
        bar.set_prefix(format!("compiling {block}"));
        bar.set_message(source.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        if bar.is_hidden() {
            eprintln!("compiling block {block} ({source})");
        }
        *self.bar.lock().expect("bar lock") = Some(bar);
    }

    fn step(&self, _block: &str, message: &str) {
        if let Some(bar) = &*self.bar.lock().expect("bar lock") {
            bar.set_message(message.to_string());
        }
    }

    fn done(&self, block: &str, cached: bool, took: Duration) {
        let mut counts = self.counts.lock().expect("counts lock");
        if cached {
            counts.1 += 1;
        } else {
            counts.0 += 1;
        }
        if let Some(bar) = self.bar.lock().expect("bar lock").take() {
            bar.finish_and_clear();
        }
        if !cached {
            eprintln!("compiled block {block} in {}", render::duration(took));
        }
    }
}

impl Default for BuildProgress {
    fn default() -> Self {
        Self::new()
    }
}
