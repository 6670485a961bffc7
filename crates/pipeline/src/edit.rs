//! Edits of a `pipeline.yaml` made by tools (the web UI's notebook): add a block, set a
//! block's `upstream:`. The manifest stays the user's file: an edit changes only the text it
//! must — comments, order, quoting and layout elsewhere are kept — and is checked before it
//! is returned: the edited text, read as YAML, must equal the original with exactly that
//! change made, or the edit is refused and the file left to be changed by hand.

use serde::Deserialize;
use serde_yaml::Value;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A change to a pipeline manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edit {
    /// Append a block to `blocks:`.
    AddBlock(NewBlock),
    /// Make `block`'s `upstream:` exactly `upstream` (added when absent).
    SetUpstream {
        /// The block to change.
        block: String,
        /// Its upstream blocks, in order.
        upstream: Vec<String>,
    },
}

/// A block appended by [`Edit::AddBlock`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBlock {
    /// Its name.
    pub name: String,
    /// Its kind (`loader`, `transformer`, ...).
    pub kind: String,
    /// Its source, as written in the manifest (relative to the project).
    pub source: String,
    /// Its upstream blocks.
    #[serde(default)]
    pub upstream: Vec<String>,
}

/// Why an edit was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The manifest is not YAML weft can read.
    #[error("pipeline.yaml line {line}: {reason}")]
    Yaml {
        /// 1-based line.
        line: usize,
        /// What the reader said.
        reason: String,
    },
    /// A name or path holds characters that would need quoting.
    #[error("{0}")]
    Invalid(String),
    /// The manifest has no block list, or not one weft can add to.
    #[error("{0}")]
    Shape(String),
    /// No block by that name.
    #[error("pipeline.yaml has no block \"{0}\"")]
    NoSuchBlock(String),
    /// A block by that name exists already.
    #[error("pipeline.yaml already has a block \"{0}\"")]
    Exists(String),
}

/// `text` with `edit` made.
///
/// # Errors
/// [`EditError`] naming what stood in the way; nothing is changed then.
pub fn apply(text: &str, edit: &Edit) -> Result<String, EditError> {
    check_names(edit)?;
    let doc = Doc::read(text)?;
    let blocks = doc.blocks()?;
    let edited = match edit {
        Edit::AddBlock(new) => {
            if blocks.items.iter().any(|b| b.name == new.name) {
                return Err(EditError::Exists(new.name.clone()));
            }
            add_block(text, &blocks, new)?
        }
        Edit::SetUpstream { block, upstream } => {
            let item = blocks
                .items
                .iter()
                .find(|b| &b.name == block)
                .ok_or_else(|| EditError::NoSuchBlock(block.clone()))?;
            set_upstream(text, item, upstream)?
        }
    };
    verify(text, &edited, edit)?;
    Ok(edited)
}

/// Names are plain words and sources plain paths: they never need quoting.
fn check_names(edit: &Edit) -> Result<(), EditError> {
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !s.starts_with('-')
    };
    let names: Vec<&String> = match edit {
        Edit::AddBlock(b) => {
            let path_ok = !b.source.is_empty()
                && !b.source.starts_with(['-', '/'])
                && b.source
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
            if !path_ok {
                return Err(EditError::Invalid(format!(
                    "source `{}`: a relative path of letters, digits, `_`, `-`, `.` and `/`",
                    b.source
                )));
            }
            std::iter::once(&b.name)
                .chain(std::iter::once(&b.kind))
                .chain(&b.upstream)
                .collect()
        }
        Edit::SetUpstream { block, upstream } => std::iter::once(block).chain(upstream).collect(),
    };
    match names.into_iter().find(|n| !word(n)) {
        Some(bad) => Err(EditError::Invalid(format!(
            "`{bad}` is not a name (letters, digits, `_` and `-`)"
        ))),
        None => Ok(()),
    }
}

/// The manifest's parse events with their positions.
struct Doc<'a> {
    text: &'a str,
    events: Vec<(Event, Mark)>,
}

/// Nesting deeper than this is refused (the walk recurses once per level).
const MAX_DEPTH: usize = 64;

/// Where a node sits in the text: `start..end` (bytes).
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

/// One entry of `blocks:`.
struct Item {
    name: String,
    span: Span,
    flow: bool,
    /// The `name` key's start.
    name_key: usize,
    /// The `name` value's end.
    name_end: usize,
    /// The `upstream` key's start and its value's span.
    upstream: Option<(usize, Span)>,
}

/// The `blocks:` sequence.
struct Blocks {
    items: Vec<Item>,
    /// Where the sequence ended (block style: the next token; flow style: `]`).
    end_mark: usize,
    flow: bool,
}

/// Events with their byte offsets (the parser counts characters).
struct Collect {
    events: Vec<(Event, Mark)>,
    bytes: Vec<usize>,
}

/// Where an event starts: a byte offset.
#[derive(Debug, Clone, Copy)]
struct Mark(usize);

impl Mark {
    fn index(self) -> usize {
        self.0
    }
}

impl MarkedEventReceiver for Collect {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let at = self
            .bytes
            .get(mark.index())
            .copied()
            .unwrap_or_else(|| self.bytes.last().copied().unwrap_or(0));
        self.events.push((ev, Mark(at)));
    }
}

impl<'a> Doc<'a> {
    fn read(text: &'a str) -> Result<Self, EditError> {
        let mut sink = Collect {
            events: Vec::new(),
            bytes: text
                .char_indices()
                .map(|(b, _)| b)
                .chain(std::iter::once(text.len()))
                .collect(),
        };
        Parser::new_from_str(text)
            .load(&mut sink, false)
            .map_err(|e| EditError::Yaml {
                line: e.marker().line(),
                reason: e.info().to_string(),
            })?;
        Ok(Doc {
            text,
            events: sink.events,
        })
    }

    fn at(&self, i: usize) -> Result<&(Event, Mark), EditError> {
        self.events
            .get(i)
            .ok_or_else(|| EditError::Shape("pipeline.yaml ends early".into()))
    }

    /// The span of the node whose first event is `i`, and the index after its last event.
    fn node(&self, i: usize) -> Result<(Span, usize), EditError> {
        self.node_at(i, 0)
    }

    fn node_at(&self, i: usize, depth: usize) -> Result<(Span, usize), EditError> {
        if depth > MAX_DEPTH {
            return Err(EditError::Shape(format!(
                "pipeline.yaml nests deeper than {MAX_DEPTH} levels"
            )));
        }
        let (ev, mark) = self.at(i)?;
        let start = mark.index();
        match ev {
            Event::Scalar(_, TScalarStyle::Literal | TScalarStyle::Folded, ..) => {
                let next = self.at(i + 1)?.1.index();
                Ok((
                    Span {
                        start,
                        end: block_scalar_end(self.text, start, next),
                    },
                    i + 1,
                ))
            }
            Event::Scalar(value, style, ..) => {
                let end = scalar_end(self.text, start, *style, value)?;
                Ok((Span { start, end }, i + 1))
            }
            Event::Alias(_) => {
                let end = start
                    + 1
                    + self.text[start + 1..]
                        .find(|c: char| c.is_whitespace() || ",]}".contains(c))
                        .unwrap_or(self.text.len() - start - 1);
                Ok((Span { start, end }, i + 1))
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                let flow = self.text[start..].starts_with(['[', '{']);
                let mut j = i + 1;
                let mut end = start;
                loop {
                    let (ev, mark) = self.at(j)?;
                    if matches!(ev, Event::SequenceEnd | Event::MappingEnd) {
                        let end = if flow { mark.index() + 1 } else { end };
                        return Ok((Span { start, end }, j + 1));
                    }
                    let (child, next) = self.node_at(j, depth + 1)?;
                    end = child.end;
                    j = next;
                }
            }
            other => Err(EditError::Shape(format!(
                "pipeline.yaml: unexpected {other:?}"
            ))),
        }
    }

    /// The children of the mapping starting at `i`: (key text, key start, value span,
    /// value's first event); and the index after the mapping.
    fn entries(&self, i: usize) -> Result<(Vec<Entry>, usize), EditError> {
        let mut out = Vec::new();
        let mut j = i + 1;
        loop {
            let (ev, mark) = self.at(j)?;
            if matches!(ev, Event::MappingEnd) {
                return Ok((out, j + 1));
            }
            let key = match ev {
                Event::Scalar(k, ..) => k.clone(),
                _ => String::new(),
            };
            let key_start = mark.index();
            let (_, v) = self.node(j)?;
            let (span, next) = self.node(v)?;
            out.push(Entry {
                key,
                key_start,
                value: span,
                first: v,
            });
            j = next;
        }
    }

    fn blocks(&self) -> Result<Blocks, EditError> {
        // StreamStart, DocumentStart, then the top-level mapping.
        let top = self
            .events
            .iter()
            .position(|(e, _)| matches!(e, Event::MappingStart(..)))
            .filter(|&i| i == 2)
            .ok_or_else(|| EditError::Shape("pipeline.yaml is not a mapping".into()))?;
        let (entries, _) = self.entries(top)?;
        let seq = entries
            .iter()
            .find(|e| e.key == "blocks")
            .ok_or_else(|| EditError::Shape("pipeline.yaml has no `blocks:` list".into()))?;
        if !matches!(self.at(seq.first)?.0, Event::SequenceStart(..)) {
            return Err(EditError::Shape("`blocks:` is not a list".into()));
        }
        let flow = self.text[seq.value.start..].starts_with('[');
        let mut items = Vec::new();
        let mut j = seq.first + 1;
        loop {
            let (ev, mark) = self.at(j)?;
            if matches!(ev, Event::SequenceEnd) {
                return Ok(Blocks {
                    items,
                    end_mark: mark.index(),
                    flow,
                });
            }
            let (span, next) = self.node(j)?;
            if matches!(ev, Event::MappingStart(..)) {
                items.push(self.item(j, span)?);
            }
            j = next;
        }
    }

    fn item(&self, i: usize, span: Span) -> Result<Item, EditError> {
        let (entries, _) = self.entries(i)?;
        let mut item = Item {
            name: String::new(),
            span,
            flow: self.text[span.start..].starts_with('{'),
            name_key: span.start,
            name_end: span.start,
            upstream: None,
        };
        for e in entries {
            match e.key.as_str() {
                "name" => {
                    if let (Event::Scalar(v, ..), _) = self.at(e.first)? {
                        item.name = v.clone();
                    }
                    item.name_key = e.key_start;
                    item.name_end = e.value.end;
                }
                "upstream" => item.upstream = Some((e.key_start, e.value)),
                _ => {}
            }
        }
        Ok(item)
    }
}

/// A key and its value in a mapping.
struct Entry {
    key: String,
    key_start: usize,
    value: Span,
    first: usize,
}

/// Where a scalar that starts at `start` ends.
fn scalar_end(
    text: &str,
    start: usize,
    style: TScalarStyle,
    value: &str,
) -> Result<usize, EditError> {
    let rest = &text[start..];
    let unplaceable = || {
        EditError::Shape(format!(
            "pipeline.yaml line {}: a value weft cannot place; edit the file by hand",
            text[..start].lines().count().max(1)
        ))
    };
    match style {
        TScalarStyle::Plain if value.is_empty() && !rest.starts_with(value) => Ok(start),
        TScalarStyle::Plain if rest.starts_with(value) => Ok(start + value.len()),
        TScalarStyle::SingleQuoted => {
            let mut i = 1;
            let b = rest.as_bytes();
            while i < b.len() {
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return Ok(start + i + 1);
                }
                i += 1;
            }
            Err(unplaceable())
        }
        TScalarStyle::DoubleQuoted => {
            let mut i = 1;
            let b = rest.as_bytes();
            while i < b.len() {
                match b[i] {
                    b'\\' => i += 2,
                    b'"' => return Ok(start + i + 1),
                    _ => i += 1,
                }
            }
            Err(unplaceable())
        }
        _ => Err(unplaceable()),
    }
}

/// Where a `|` or `>` scalar starting at `start` ends, `next` being the next token: its last
/// line indented deeper than the line it starts on (comments less indented are not its).
fn block_scalar_end(text: &str, start: usize, next: usize) -> usize {
    let head = line_start(text, start);
    let depth = |line: &str| line.len() - line.trim_start().len();
    let base = depth(&text[head..line_end(text, head)]);
    let mut end = line_end(text, start);
    let mut at = (end + 1).min(text.len());
    while at < next.min(text.len()) {
        let stop = line_end(text, at);
        let line = &text[at..stop];
        if !line.trim().is_empty() && depth(line) > base {
            end = stop;
        }
        at = (stop + 1).min(text.len());
        if stop == text.len() {
            break;
        }
    }
    end
}

/// The byte offset where the line holding `at` ends (before its line feed).
fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |n| at + n)
}

/// The byte offset where the line holding `at` starts.
fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |n| n + 1)
}

fn flow_list(names: &[String]) -> String {
    format!("[{}]", names.join(", "))
}

fn add_block(text: &str, blocks: &Blocks, new: &NewBlock) -> Result<String, EditError> {
    if blocks.flow {
        return Err(EditError::Shape(
            "`blocks:` is written as a flow list `[...]`; write it as `- name: ...` entries to let weft add to it".into(),
        ));
    }
    let last = blocks
        .items
        .last()
        .ok_or_else(|| EditError::Shape("`blocks:` is empty".into()))?;
    // The dash of an entry: the last `-` before the entry on its line.
    let first = &blocks.items[0];
    let dash = text[line_start(text, first.span.start)..first.span.start]
        .rfind('-')
        .ok_or_else(|| EditError::Shape("cannot find the `-` of the first block".into()))?;
    let indent = " ".repeat(dash);
    let upstream = if new.upstream.is_empty() {
        String::new()
    } else {
        flow_list(&new.upstream)
    };
    let entry = if last.flow {
        let up = if upstream.is_empty() {
            String::new()
        } else {
            format!(", upstream: {upstream}")
        };
        format!(
            "{indent}- {{ name: {}, kind: {}, source: {}{up} }}\n",
            new.name, new.kind, new.source
        )
    } else {
        let mut s = format!(
            "{indent}- name: {}\n{indent}  kind: {}\n{indent}  source: {}\n",
            new.name, new.kind, new.source
        );
        if !upstream.is_empty() {
            s.push_str(&format!("{indent}  upstream: {upstream}\n"));
        }
        s
    };
    // After the last entry's last line; blank lines and comments less indented than the
    // entries after it belong to what follows.
    let mut at = line_end(text, last.span.end.max(last.span.start));
    at = if at < text.len() { at + 1 } else { at };
    let end = blocks.end_mark.max(at).min(text.len());
    let between = &text[at..end];
    let mut keep = 0;
    let mut offset = 0;
    for line in between.split_inclusive('\n') {
        offset += line.len();
        let body = line.trim_start();
        let depth = line.len() - body.len();
        if body.trim().is_empty() || (body.starts_with('#') && depth < dash) {
            continue;
        }
        keep = offset;
    }
    let at = at + keep.min(between.len());
    // Entries kept apart by blank lines get one before the new entry too.
    let spaced = blocks.items.len() >= 2 && {
        let prev = &blocks.items[blocks.items.len() - 2];
        text[prev.span.end..last.span.start]
            .lines()
            .skip(1)
            .any(|l| l.trim().is_empty())
    };
    let mut out = String::with_capacity(text.len() + entry.len() + 2);
    out.push_str(&text[..at]);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    if spaced {
        out.push('\n');
    }
    out.push_str(&entry);
    out.push_str(&text[at..]);
    Ok(out)
}

fn set_upstream(text: &str, item: &Item, upstream: &[String]) -> Result<String, EditError> {
    let list = flow_list(upstream);
    let (at, cut, insert) = match item.upstream {
        Some((key, value)) => {
            // From just after `upstream:` to the value's end.
            let colon = text[key..]
                .find(':')
                .map(|c| key + c + 1)
                .filter(|&c| c <= value.start.max(key + "upstream".len() + 1))
                .ok_or_else(|| EditError::Shape("cannot find the `:` after `upstream`".into()))?;
            // An empty value (`upstream:` and nothing) sits at the next token: cut nothing.
            let end = if value.start == value.end {
                colon
            } else {
                value.end.max(colon)
            };
            (colon, end, format!(" {list}"))
        }
        None if item.flow => {
            // Before the closing `}`.
            let close = item.span.end - 1;
            let body = text[..close].trim_end();
            if body.ends_with(',') {
                (body.len(), body.len(), format!(" upstream: {list}"))
            } else {
                (body.len(), body.len(), format!(", upstream: {list}"))
            }
        }
        None => {
            // A line of its own after `name:`, indented as `name`.
            let indent = item.name_key - line_start(text, item.name_key);
            let at = line_end(text, item.name_end);
            (at, at, format!("\n{}upstream: {list}", " ".repeat(indent)))
        }
    };
    Ok(format!("{}{insert}{}", &text[..at], &text[cut..]))
}

/// The edited text read as YAML equals the original with the change made; otherwise the
/// edit is refused.
fn verify(before: &str, after: &str, edit: &Edit) -> Result<(), EditError> {
    let read = |t: &str| serde_yaml::from_str::<Value>(t).ok();
    let refused = || {
        EditError::Shape(
            "weft could not make this change without disturbing the rest of pipeline.yaml; edit the file by hand".into(),
        )
    };
    let (Some(mut want), Some(got)) = (read(before), read(after)) else {
        return Err(refused());
    };
    let blocks = want
        .get_mut("blocks")
        .and_then(Value::as_sequence_mut)
        .ok_or_else(refused)?;
    let names = |v: &[String]| Value::Sequence(v.iter().cloned().map(Value::String).collect());
    match edit {
        Edit::AddBlock(b) => {
            let mut m = serde_yaml::Mapping::new();
            m.insert("name".into(), b.name.clone().into());
            m.insert("kind".into(), b.kind.clone().into());
            m.insert("source".into(), b.source.clone().into());
            if !b.upstream.is_empty() {
                m.insert("upstream".into(), names(&b.upstream));
            }
            blocks.push(Value::Mapping(m));
        }
        Edit::SetUpstream { block, upstream } => {
            let entry = blocks
                .iter_mut()
                .find(|b| b.get("name").and_then(Value::as_str) == Some(block))
                .and_then(Value::as_mapping_mut)
                .ok_or_else(refused)?;
            entry.insert("upstream".into(), names(upstream));
        }
    }
    if want == got {
        Ok(())
    } else {
        Err(refused())
    }
}
