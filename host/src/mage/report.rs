//! What `weft import mage` tells the user: per block, mapped cleanly or what needs a hand,
//! with file, line and reason; the grants it derived; the files it wrote or kept.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::grants::Needs;

/// One thing to know about a block or pipeline.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    /// The Mage file it is about, relative to the Mage project.
    pub file: PathBuf,
    /// 1-based line, 0 for the whole file.
    pub line: u32,
    /// What and why.
    pub reason: String,
    /// True when the imported block will not run as Mage ran it until someone changes it.
    pub hand: bool,
}

impl Finding {
    /// Something that needs a hand.
    pub fn hand(file: &Path, line: u32, reason: String) -> Finding {
        Finding {
            file: file.to_path_buf(),
            line,
            reason,
            hand: true,
        }
    }

    /// Something worth knowing that needs nothing done.
    pub fn note(file: &Path, line: u32, reason: String) -> Finding {
        Finding {
            file: file.to_path_buf(),
            line,
            reason,
            hand: false,
        }
    }

    fn place(&self) -> String {
        if self.line > 0 {
            format!("{}:{}", self.file.display(), self.line)
        } else {
            self.file.display().to_string()
        }
    }
}

/// How one Mage block was imported.
#[derive(Debug, Clone, Serialize)]
pub struct BlockReport {
    /// Its pipeline.
    pub pipeline: String,
    /// Its name (Mage's uuid).
    pub block: String,
    /// The weft kind it became (empty when it was left out).
    pub kind: String,
    /// Grants derived from its code, as written into pipeline.yaml.
    pub grants: Vec<String>,
    /// Problems and notes.
    pub findings: Vec<Finding>,
}

impl BlockReport {
    /// True when nothing about it needs a hand.
    pub fn clean(&self) -> bool {
        self.findings.iter().all(|f| !f.hand)
    }
}

/// The outcome of an import.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The weft project written.
    pub into: PathBuf,
    /// Pipelines imported.
    pub pipelines: Vec<String>,
    /// Every block.
    pub blocks: Vec<BlockReport>,
    /// Findings about pipelines and triggers rather than blocks.
    pub notes: Vec<Finding>,
    /// Files written (new or updated), relative to `into`.
    pub written: Vec<PathBuf>,
    /// Files edited (or deleted) since the last import whose Mage side did not change: kept so.
    pub kept: Vec<PathBuf>,
    /// Files an earlier import wrote that the Mage project no longer has (unedited): removed.
    pub removed: Vec<PathBuf>,
}

impl Report {
    /// Blocks and notes that need a hand.
    pub fn needs_hand(&self) -> usize {
        self.blocks.iter().filter(|b| !b.clean()).count()
            + self.notes.iter().filter(|n| n.hand).count()
    }

    /// The report as the terminal shows it.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let width = self.blocks.iter().map(|b| b.block.len()).max().unwrap_or(0);
        for p in &self.pipelines {
            let _ = writeln!(s, "pipeline {p}");
            for b in self.blocks.iter().filter(|b| &b.pipeline == p) {
                let mark = if b.clean() { "ok  " } else { "HAND" };
                let kind = if b.kind.is_empty() {
                    "(left out)"
                } else {
                    &b.kind
                };
                let _ = writeln!(s, "  {mark} {:width$}  {kind}", b.block);
                for g in &b.grants {
                    let _ = writeln!(s, "         grant {g}");
                }
                for f in &b.findings {
                    let tag = if f.hand { "needs a hand" } else { "note" };
                    let _ = writeln!(s, "         {tag}: {}: {}", f.place(), f.reason);
                }
            }
        }
        for n in &self.notes {
            let tag = if n.hand { "needs a hand" } else { "note" };
            let _ = writeln!(s, "{tag}: {}: {}", n.place(), n.reason);
        }
        let clean = self.blocks.iter().filter(|b| b.clean()).count();
        let _ = writeln!(
            s,
            "{clean} of {} blocks mapped cleanly; {} item(s) need a hand",
            self.blocks.len(),
            self.needs_hand()
        );
        let _ = write!(
            s,
            "wrote {} file(s) into {}",
            self.written.len(),
            self.into.display()
        );
        if !self.removed.is_empty() {
            let gone: Vec<String> = self
                .removed
                .iter()
                .map(|k| k.display().to_string())
                .collect();
            let _ = write!(
                s,
                "; removed {} (no longer in the Mage project)",
                gone.join(", ")
            );
        }
        if !self.kept.is_empty() {
            let kept: Vec<String> = self.kept.iter().map(|k| k.display().to_string()).collect();
            let _ = write!(s, "; kept your edits of {}", kept.join(", "));
        }
        s
    }
}

/// `needs` as the grant lines the report shows.
pub fn grant_lines(needs: &Needs) -> Vec<String> {
    let mut out = Vec::new();
    for (what, set) in [
        ("profiles", &needs.profiles),
        ("urls", &needs.urls),
        ("write", &needs.write),
        ("env", &needs.env),
    ] {
        for v in set {
            out.push(format!("{what}: {v}"));
        }
    }
    out
}
