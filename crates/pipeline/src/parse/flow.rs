//! The control-flow fields of a block (`trigger_rule`, `conditions`, `callbacks`, `on`,
//! `dynamic`, `reduce`, sensor settings) and the checks that span blocks: what conditions and
//! callbacks name, and which fan-outs each block runs within.

use std::collections::HashMap;

use serde_yaml::{Mapping, Value};

use super::{scalar, Cx};
use crate::flow::*;
use crate::model::{Block, Kind};

/// The control-flow fields a block may have.
pub(super) const FIELDS: &[&str] = &[
    "trigger_rule",
    "conditions",
    "callbacks",
    "on",
    "dynamic",
    "child_key",
    "max_children",
    "on_max_children",
    "max_parallel",
    "reduce",
    "poke_interval",
    "soft_fail",
];

impl Cx {
    /// Read a block's control-flow fields; `scope` is filled in by [`Cx::check_flow`].
    pub(super) fn flow(&mut self, map: &Mapping, block: &str, kind: Option<Kind>) -> Flow {
        let b = Some(block);
        let mut flow = Flow::default();
        if let Some(v) = map.get("trigger_rule") {
            let text = scalar(v).unwrap_or_default();
            match TriggerRule::ALL.iter().find(|r| r.as_str() == text) {
                Some(r) => flow.trigger_rule = *r,
                None => self.invalid(
                    b,
                    "trigger_rule",
                    format!(
                        "unknown rule `{text}`; valid: {}",
                        TriggerRule::ALL.map(|r| r.as_str()).join(", ")
                    ),
                ),
            }
        }
        flow.conditions = self.names(map, "conditions", block);
        flow.callbacks = self.names(map, "callbacks", block);
        if let Some(v) = map.get("on") {
            if kind != Some(Kind::Callback) {
                self.invalid(
                    b,
                    "on",
                    "only callback blocks say which ends they handle".into(),
                );
            }
            flow.on = self.ends(v, block);
        }
        flow.dynamic =
            self.field::<bool>(map, "dynamic", b).unwrap_or(false) || kind == Some(Kind::Dynamic);
        flow.reduce = self.field::<bool>(map, "reduce", b).unwrap_or(false);
        flow.child_key = self.field::<String>(map, "child_key", b);
        if let Some(n) = self.field::<usize>(map, "max_children", b) {
            flow.max_children = n;
        }
        if let Some(v) = map.get("on_max_children") {
            match scalar(v).as_deref() {
                Some("fail") => flow.on_max_children = OnMaxChildren::Fail,
                Some("limit") => flow.on_max_children = OnMaxChildren::Limit,
                _ => self.invalid(b, "on_max_children", "valid: fail, limit".into()),
            }
        }
        flow.max_parallel = self.field::<usize>(map, "max_parallel", b);
        if flow.max_parallel == Some(0) {
            self.invalid(b, "max_parallel", "must be at least 1".into());
        }
        if !flow.dynamic {
            for f in ["child_key", "max_children", "on_max_children"] {
                if map.contains_key(f) {
                    self.invalid(
                        b,
                        f,
                        "only a dynamic block (`dynamic: true`) has children".into(),
                    );
                }
            }
        }
        if flow.dynamic && flow.reduce {
            self.invalid(
                b,
                "reduce",
                "a block cannot both fan out (`dynamic`) and gather (`reduce`); add a block after it".into(),
            );
            flow.reduce = false;
        }
        if let Some(d) = self.duration(map, "poke_interval", block) {
            if d < MIN_POKE_INTERVAL {
                self.invalid(b, "poke_interval", "must be at least 1s".into());
            } else {
                flow.poke_interval = d;
            }
        }
        flow.soft_fail = self.field::<bool>(map, "soft_fail", b).unwrap_or(false);
        if kind != Some(Kind::Sensor) {
            for f in ["poke_interval", "soft_fail"] {
                if map.contains_key(f) {
                    self.invalid(b, f, "only sensor blocks poke".into());
                }
            }
        }
        flow
    }

    /// A list of block names (a single name is taken as a list of one).
    fn names(&mut self, map: &Mapping, field: &str, block: &str) -> Vec<String> {
        match map.get(field) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(v) => self
                .field::<Vec<String>>(
                    &Mapping::from_iter([(field.into(), v.clone())]),
                    field,
                    Some(block),
                )
                .unwrap_or_default(),
        }
    }

    fn ends(&mut self, v: &Value, block: &str) -> Vec<End> {
        let items: Vec<String> = match v {
            Value::String(s) => vec![s.clone()],
            Value::Sequence(s) => s.iter().filter_map(scalar).collect(),
            _ => Vec::new(),
        };
        let mut ends = Vec::new();
        for item in &items {
            match End::ALL.iter().find(|e| e.as_str() == item) {
                Some(e) if !ends.contains(e) => ends.push(*e),
                Some(_) => {}
                None => self.invalid(
                    Some(block),
                    "on",
                    format!("unknown end `{item}`; valid: success, failure, cancel"),
                ),
            }
        }
        if ends.is_empty() && items.is_empty() {
            self.invalid(
                Some(block),
                "on",
                "must list success, failure or cancel".into(),
            );
        }
        ends
    }

    /// Checks across blocks (in topological order): conditions and callbacks name blocks of
    /// their kind that nothing else reads, and each block's fan-out scope is a chain.
    pub(super) fn check_flow(&mut self, blocks: &mut [Block], pipeline_callbacks: &[String]) {
        let kinds: HashMap<String, Kind> =
            blocks.iter().map(|b| (b.name.clone(), b.kind)).collect();
        let attached = |k: Kind| matches!(k, Kind::Condition | Kind::Callback);
        for b in blocks.iter() {
            let name = Some(b.name.as_str());
            for (field, list, want) in [
                ("conditions", &b.flow.conditions, Kind::Condition),
                ("callbacks", &b.flow.callbacks, Kind::Callback),
            ] {
                for c in list {
                    match kinds.get(c) {
                        Some(k) if *k == want => {}
                        Some(k) => self.invalid(
                            name,
                            field,
                            format!("\"{c}\" is a {k} block, not a {want} block"),
                        ),
                        None => self.invalid(
                            name,
                            field,
                            format!("\"{c}\" is not a block of this pipeline"),
                        ),
                    }
                }
            }
            if attached(b.kind) {
                if !b.upstream.is_empty() {
                    self.invalid(
                        name,
                        "upstream",
                        format!("a {} block has no upstream: it runs with the inputs of the block it is attached to", b.kind),
                    );
                }
                if !b.flow.conditions.is_empty()
                    || !b.flow.callbacks.is_empty()
                    || b.flow.dynamic
                    || b.flow.reduce
                {
                    self.invalid(
                        name,
                        "kind",
                        format!(
                            "a {} block has no conditions, callbacks, fan-out or reduce of its own",
                            b.kind
                        ),
                    );
                }
            }
            for u in &b.upstream {
                if kinds.get(u).is_some_and(|k| attached(*k)) {
                    self.invalid(
                        name,
                        "upstream",
                        format!(
                            "\"{u}\" is a {} block; attach it with `{}: [{u}]` instead",
                            kinds[u],
                            if kinds[u] == Kind::Condition {
                                "conditions"
                            } else {
                                "callbacks"
                            }
                        ),
                    );
                }
            }
        }
        for c in pipeline_callbacks {
            if kinds.get(c) != Some(&Kind::Callback) {
                self.invalid(
                    None,
                    "callbacks",
                    format!("\"{c}\" is not a callback block of this pipeline"),
                );
            }
        }
        self.scopes(blocks);
    }

    /// Give each block the fan-outs it runs within: the longest of its upstream blocks' out
    /// scopes, which must each extend the shorter ones (two separate fan-outs would pair
    /// children by nothing).
    fn scopes(&mut self, blocks: &mut [Block]) {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for b in blocks.iter_mut() {
            let mut scope: Vec<String> = Vec::new();
            let mut from = String::new();
            for u in &b.upstream {
                let Some(s) = out.get(u) else { continue };
                let (short, long) = if s.len() > scope.len() {
                    (&scope, s)
                } else {
                    (s, &scope)
                };
                if long[..short.len()] != short[..] {
                    let inner = |s: &[String]| s.last().cloned().unwrap_or_default();
                    self.invalid(
                        Some(&b.name),
                        "upstream",
                        format!(
                            "\"{from}\" runs within the fan-out of \"{}\" and \"{u}\" within that of \"{}\"; reduce one of them first (`reduce: true`)",
                            inner(&scope),
                            inner(s)
                        ),
                    );
                    continue;
                }
                if s.len() > scope.len() {
                    scope = s.clone();
                    from = u.clone();
                } else if from.is_empty() {
                    from = u.clone();
                }
            }
            b.flow.scope = scope;
            if b.flow.reduce && b.flow.scope.is_empty() {
                self.invalid(
                    Some(&b.name),
                    "reduce",
                    "the block does not run within a fan-out: nothing to gather (a dynamic block's downstream blocks do)".into(),
                );
                b.flow.reduce = false;
            }
            if b.kind == Kind::Sensor && b.flow.dynamic {
                self.invalid(
                    Some(&b.name),
                    "dynamic",
                    "a sensor answers true or false; it cannot fan out".into(),
                );
            }
            out.insert(b.name.clone(), b.flow.out_scope(&b.name));
        }
    }
}
