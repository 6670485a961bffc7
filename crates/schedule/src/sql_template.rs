//! SQL block templates: Jinja (`{{ df_1 }}`, `{{ execution_date }}`,
//! `{{ variables('name') }}`) whose values can never restructure the query.
//!
//! Run variables come from the command line, schedules and API-trigger callers, so a value
//! is data, never SQL. Before rendering, every `{{ … }}` is tagged with the SQL context it
//! stands in, found by lexing the template's own text:
//!
//! | where the placeholder stands         | what a value becomes                              |
//! |--------------------------------------|---------------------------------------------------|
//! | in code (`WHERE id > {{ v }}`)       | a number as it is (negative in parentheses), else a quoted string literal `'…'` |
//! | in a string (`'{{ v }}'`)            | the string's content, quotes doubled              |
//! | in an `E'…'` string                  | the content, quotes and backslashes doubled       |
//! | in a quoted identifier (`"{{ v }}"`) | the identifier's content, `"` doubled             |
//! | in a comment                         | the text with line breaks and `*/` defused        |
//! | in a dollar-quoted string            | refused: nothing can be made safe there           |
//!
//! So Mage's way of writing templates (`WHERE d = '{{ execution_date }}'`,
//! `WHERE id > {{ min_id }}`) keeps working for ordinary values. A value meant as an
//! identifier (a table or column name) goes through the explicit `ident` filter:
//! `FROM {{ table | ident }}` becomes `FROM "the ""name"""`. Upstream tables (`df_1`…) are
//! identifiers already.

use std::collections::BTreeMap;

use std::sync::Arc;

use minijinja::value::{Object, ValueKind};
use minijinja::{Environment, UndefinedBehavior, Value};
use weft_pipeline::Block;

/// The SQL context a placeholder stands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Code,
    /// In code, right after a name character: `E{{ v }}` or `x{{ v }}` would glue the value
    /// to it.
    Glued,
    String,
    EscapeString,
    Identifier,
    LineComment,
    BlockComment,
    Backtick,
    Dollar,
}

impl Context {
    /// The filter that makes a value safe in this context.
    fn filter(self) -> &'static str {
        match self {
            Context::Code => "weft_code",
            Context::Glued => "weft_glued",
            Context::String => "weft_string",
            Context::EscapeString => "weft_escape_string",
            Context::Identifier => "weft_identifier",
            Context::LineComment => "weft_line_comment",
            Context::BlockComment => "weft_block_comment",
            Context::Backtick => "weft_backtick",
            Context::Dollar => "weft_dollar",
        }
    }
}

/// Fill in the template: `df_1`… name the upstream tables (quoted), other names are run
/// variables, each made safe for where it stands; an unknown name is an error naming it and
/// its line.
pub(crate) fn render(
    block: &Block,
    text: &str,
    variables: &BTreeMap<String, String>,
) -> Result<String, String> {
    if !text.contains("{{") && !text.contains("{%") {
        return Ok(text.to_string());
    }
    let tagged = tag(text)?;
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    add_filters(&mut env);
    let vars = variables.clone();
    env.add_function(
        "variables",
        move |name: String| -> Result<String, minijinja::Error> {
            vars.get(&name).cloned().ok_or_else(|| {
                minijinja::Error::new(
                    minijinja::ErrorKind::UndefinedError,
                    format!("no run variable `{name}`"),
                )
            })
        },
    );
    let mut ctx: BTreeMap<String, Value> = variables
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    for (i, up) in block.upstream.iter().enumerate() {
        ctx.insert(format!("df_{}", i + 1), ident_value(up));
    }
    let known = |name: &str| name == "variables" || ctx.contains_key(name);
    let template = env
        .template_from_str(&tagged)
        .map_err(|e| describe(&e, block, variables))?;
    let mut unknown: Vec<String> = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|n| !known(n))
        .collect();
    unknown.sort();
    if let Some(name) = unknown.first() {
        let line = text
            .lines()
            .position(|l| l.contains(name.as_str()))
            .map(|i| format!("line {}: ", i + 1))
            .unwrap_or_default();
        return Err(format!(
            "template {line}unknown name `{name}`; names available: {}",
            names(block, variables)
        ));
    }
    template
        .render(&ctx)
        .map_err(|e| describe(&e, block, variables))
}

/// `"name"` with inner quotes doubled.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A quoted identifier made by `ident` (or an upstream table, `df_1`…): the only value that
/// goes into code as it is. Jinja's own "safe" strings (`|safe`, `|e`) get no such trust.
#[derive(Debug)]
struct Ident(String);

impl Object for Ident {
    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn ident_value(name: &str) -> Value {
    Value::from_object(Ident(quote_ident(name)))
}

fn as_ident(v: &Value) -> Option<String> {
    v.downcast_object_ref::<Ident>().map(|i| i.0.clone())
}

/// A number as SQL writes it: digits, one optional point, an optional exponent.
fn is_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(whole)
        && fraction.is_none_or(digits)
        && !(whole.is_empty() && fraction.is_none_or(str::is_empty));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

fn text_of(value: &Value) -> String {
    match value.as_str() {
        Some(s) => s.to_string(),
        None => value.to_string(),
    }
}

fn add_filters(env: &mut Environment<'_>) {
    for name in ["safe", "e", "escape"] {
        env.remove_filter(name);
    }
    env.add_filter("ident", |v: Value| match as_ident(&v) {
        Some(_) => v,
        None => ident_value(&text_of(&v)),
    });
    env.add_filter("weft_code", |v: Value| -> String {
        if let Some(ident) = as_ident(&v) {
            return ident;
        }
        match v.kind() {
            ValueKind::Undefined | ValueKind::None => return "NULL".into(),
            ValueKind::Bool => return if v.is_true() { "TRUE" } else { "FALSE" }.into(),
            _ => {}
        }
        let text = text_of(&v);
        match (is_number(&text), text.starts_with('-')) {
            (true, true) => format!("({text})"),
            (true, false) => text,
            (false, _) => format!("'{}'", text.replace('\'', "''")),
        }
    });
    env.add_filter("weft_string", |v: Value| text_of(&v).replace('\'', "''"));
    env.add_filter("weft_escape_string", |v: Value| {
        text_of(&v).replace('\\', "\\\\").replace('\'', "''")
    });
    env.add_filter("weft_identifier", |v: Value| {
        text_of(&v).replace('"', "\"\"")
    });
    env.add_filter("weft_line_comment", |v: Value| {
        text_of(&v).replace(
            [
                '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{2028}', '\u{2029}',
            ],
            " ",
        )
    });
    env.add_filter("weft_block_comment", |v: Value| {
        text_of(&v).replace(['*', '/'], " ")
    });
    env.add_filter(
        "weft_glued",
        |v: Value| -> Result<String, minijinja::Error> {
            if let Some(ident) = as_ident(&v) {
                return Ok(ident);
            }
            Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                "a placeholder glued to a name cannot be made safe; leave a space before it",
            ))
        },
    );
    env.add_filter(
        "weft_backtick",
        |_v: Value| -> Result<String, minijinja::Error> {
            Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                "a placeholder inside a `backtick` identifier cannot be made safe; write \"{{ name }}\" or {{ name | ident }}",
            ))
        },
    );
    env.add_filter(
        "weft_dollar",
        |_v: Value| -> Result<String, minijinja::Error> {
            Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                "a placeholder inside a dollar-quoted string cannot be made safe; use a '…' string",
            ))
        },
    );
}

/// The template with every `{{ expr }}` rewritten to `{{ (expr) | weft_<context> }}`, the
/// context found by lexing the SQL text around the tags. Whitespace control (`{{-`, `-%}`…)
/// is applied here, before lexing, so the lexer sees the text the query will hold; the tags
/// come out without it. `{% raw %}` blocks are SQL text like any other.
fn tag(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut lexer = Lexer::default();
    let mut rest = text;
    let mut trim_next = false;
    loop {
        let next = [rest.find("{{"), rest.find("{%"), rest.find("{#")]
            .into_iter()
            .flatten()
            .min();
        let (mut before, tail) = match next {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, ""),
        };
        if trim_next {
            before = before.trim_start();
        }
        let trim_before = tail.len() > 2 && tail.as_bytes()[2] == b'-';
        if trim_before {
            before = before.trim_end();
        }
        lexer.feed(before);
        out.push_str(before);
        if tail.is_empty() {
            return Ok(out);
        }
        let end = tag_end(tail)?;
        let tag_text = &tail[..end];
        trim_next = tag_text.len() > 4 && tag_text.as_bytes()[end - 3] == b'-';
        let inner = tag_text[2..end - 2]
            .trim_start_matches(['-', '+'])
            .trim_end_matches(['-', '+']);
        match &tail[..2] {
            "{{" => out.push_str(&format!(
                "{{{{ ({}) | {} }}}}",
                inner.trim(),
                lexer.context().filter()
            )),
            "{%" if inner.trim() == "raw" => {
                // Everything up to `{% endraw %}` is literal SQL.
                let after = &tail[end..];
                let (raw, stop) = raw_body(after)?;
                lexer.feed(raw);
                out.push_str("{% raw %}");
                out.push_str(raw);
                out.push_str("{% endraw %}");
                rest = &after[stop..];
                continue;
            }
            "{%" => out.push_str(&format!("{{%{inner}%}}")),
            _ => {}
        }
        rest = &tail[end..];
    }
}

/// Where the tag opening `tail` ends (past its `}}`, `%}` or `#}`), skipping the insides of
/// Jinja string literals.
fn tag_end(tail: &str) -> Result<usize, String> {
    let close = match &tail[..2] {
        "{{" => "}}",
        "{%" => "%}",
        _ => "#}",
    };
    let bytes = tail.as_bytes();
    let mut i = 2;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if close != "#}" && (b == b'\'' || b == b'"') => quote = Some(b),
            None if tail[i..].starts_with(close) => return Ok(i + 2),
            None => {}
        }
        i += 1;
    }
    Err(format!(
        "template: `{}` is never closed by `{close}`",
        &tail[..2]
    ))
}

/// The body of a `{% raw %}` block starting at `after`, and where its `{% endraw %}` ends.
fn raw_body(after: &str) -> Result<(&str, usize), String> {
    let mut from = 0;
    while let Some(i) = after[from..].find("{%") {
        let at = from + i;
        let end = tag_end(&after[at..])?;
        let inner = after[at + 2..at + end - 2].trim_matches(['-', '+', ' ', '\t', '\n']);
        if inner == "endraw" {
            return Ok((&after[..at], at + end));
        }
        from = at + 2;
    }
    Err("template: `{% raw %}` is never closed by `{% endraw %}`".into())
}

/// A small SQL lexer that only tracks whether the text so far ends in code, a string, a
/// quoted identifier, a comment or a dollar-quoted string.
#[derive(Debug, Default)]
struct Lexer {
    state: State,
    /// The last character seen in code (to tell `E'…'` from `name'…'`).
    prev: Option<char>,
    prev_prev: Option<char>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
enum State {
    #[default]
    Code,
    String,
    EscapeString,
    Identifier,
    LineComment,
    BlockComment(usize),
    Backtick,
    Dollar(String),
}

impl Lexer {
    fn context(&self) -> Context {
        match self.state {
            State::Code if self.prev.is_some_and(|p| is_name_char(p) || p == '$') => Context::Glued,
            State::Code => Context::Code,
            State::String => Context::String,
            State::EscapeString => Context::EscapeString,
            State::Identifier => Context::Identifier,
            State::LineComment => Context::LineComment,
            State::BlockComment(_) => Context::BlockComment,
            State::Backtick => Context::Backtick,
            State::Dollar(_) => Context::Dollar,
        }
    }

    fn feed(&mut self, text: &str) {
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            i += self.step(&chars, i);
        }
    }

    /// Consume what starts at `chars[i]`; how many characters it took.
    fn step(&mut self, chars: &[char], i: usize) -> usize {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match &mut self.state {
            State::Code => return self.code(chars, i),
            State::String | State::EscapeString if c == '\'' && next == Some('\'') => return 2,
            State::EscapeString if c == '\\' && next.is_some() => return 2,
            State::String | State::EscapeString if c == '\'' => self.state = State::Code,
            State::Identifier if c == '"' && next == Some('"') => return 2,
            State::Identifier if c == '"' => self.state = State::Code,
            State::LineComment if c == '\n' || c == '\r' => self.state = State::Code,
            State::Backtick if c == '`' && next == Some('`') => return 2,
            State::Backtick if c == '`' => self.state = State::Code,
            State::BlockComment(depth) if c == '*' && next == Some('/') => {
                *depth -= 1;
                if *depth == 0 {
                    self.state = State::Code;
                }
                return 2;
            }
            State::BlockComment(depth) if c == '/' && next == Some('*') => {
                *depth += 1;
                return 2;
            }
            State::Dollar(tag) => {
                let n = tag.chars().count();
                let rest: String = chars[i..].iter().take(n).collect();
                if rest == *tag {
                    self.state = State::Code;
                    return n;
                }
            }
            _ => {}
        }
        1
    }

    fn code(&mut self, chars: &[char], i: usize) -> usize {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let (prev, prev_prev) = (self.prev, self.prev_prev);
        self.prev_prev = self.prev;
        self.prev = Some(c);
        match c {
            '\'' => {
                // `E'…'` (and `X'…'`, `B'…'`, `R'…'`…) strings may treat backslashes as
                // escapes; `N'…'` and plain strings do not.
                let prefixed =
                    prev.is_some_and(|p| p.is_alphabetic()) && !prev_prev.is_some_and(is_name_char);
                self.state = if prefixed && !matches!(prev, Some('n' | 'N')) {
                    State::EscapeString
                } else {
                    State::String
                };
            }
            '"' => self.state = State::Identifier,
            '`' => self.state = State::Backtick,
            '-' if next == Some('-') => {
                self.state = State::LineComment;
                return 2;
            }
            '/' if next == Some('*') => {
                self.state = State::BlockComment(1);
                return 2;
            }
            '$' if !prev.is_some_and(is_name_char) => {
                let tag_end = chars[i + 1..]
                    .iter()
                    .position(|ch| !is_name_char(*ch))
                    .map(|p| i + 1 + p);
                if let Some(end) = tag_end.filter(|e| chars[*e] == '$') {
                    let tag: String = chars[i..=end].iter().collect();
                    self.state = State::Dollar(tag);
                    return end + 1 - i;
                }
            }
            _ => {}
        }
        1
    }
}

/// A character of a name or a dollar-quote tag (Postgres allows any non-ASCII one).
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || !c.is_ascii()
}

/// The names a template may use.
fn names(block: &Block, variables: &BTreeMap<String, String>) -> String {
    (1..=block.upstream.len())
        .map(|i| format!("df_{i}"))
        .chain(variables.keys().cloned())
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(e: &minijinja::Error, block: &Block, variables: &BTreeMap<String, String>) -> String {
    let line = e.line().map(|l| format!("line {l}: ")).unwrap_or_default();
    let detail = e
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| e.kind().to_string());
    format!(
        "template {line}{detail}; names available: {}",
        names(block, variables)
    )
}

#[cfg(test)]
mod tests;
