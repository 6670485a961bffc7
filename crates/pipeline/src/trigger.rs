//! `pipelines/<name>/triggers.yaml`: what starts a pipeline's runs when nobody types
//! `weft run` — cron schedules (with a time zone and a catch-up policy) and authenticated
//! HTTP endpoints. Parsed into [`Trigger`]s, every problem named with the file and trigger.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, TimeZone, Timelike, Utc};
use croner::Cron;
use serde::Serialize;
use serde_yaml::{Mapping, Value};

use crate::error::{closest, ManifestError, ManifestErrors};

const FIELDS: &[&str] = &[
    "name",
    "type",
    "description",
    "cron",
    "timezone",
    "start",
    "end",
    "catch_up",
    "variables",
];

/// One trigger of a pipeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    /// Unique within the pipeline; part of the API path.
    pub name: String,
    /// Free text shown in listings.
    pub description: Option<String>,
    /// Run variables every run of this trigger gets (before the request's own).
    pub variables: BTreeMap<String, String>,
    /// What fires it.
    pub kind: TriggerKind,
}

/// What fires a trigger.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum TriggerKind {
    /// A cron schedule in a time zone.
    Schedule(Schedule),
    /// `POST /api/pipelines/{pipeline}/triggers/{name}/runs` with a bearer token.
    Api,
}

/// A cron schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    /// The cron expression as written (5 fields, or 6 with seconds first).
    pub cron: String,
    /// IANA time zone the expression is read in.
    pub timezone: String,
    /// No run is scheduled before this instant.
    pub start: Option<DateTime<Utc>>,
    /// No run is scheduled after this instant.
    pub end: Option<DateTime<Utc>>,
    /// What happens to the ticks missed while weft was down.
    pub catch_up: CatchUp,
}

/// What a schedule does with ticks it missed (weft was not running).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CatchUp {
    /// Forget them; wait for the next tick.
    Skip,
    /// Run once, for the most recent missed tick.
    Latest,
    /// Run every missed tick, oldest first.
    All,
}

impl Schedule {
    fn parsed(&self) -> (Cron, chrono_tz::Tz) {
        let cron = parse_cron(&self.cron).expect("validated when the file was read");
        let tz = chrono_tz::Tz::from_str(&self.timezone).expect("validated when the file was read");
        (cron, tz)
    }

    /// The first tick strictly after `after`, within start/end; `None` when there is none.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (cron, tz) = self.parsed();
        let from = match self.start {
            Some(s) if s > after => s - chrono::Duration::milliseconds(1),
            _ => after,
        };
        let next = cron
            .find_next_occurrence(&whole_seconds(from).with_timezone(&tz), false)
            .ok()?
            .with_timezone(&Utc);
        match self.end {
            Some(e) if next > e => None,
            _ => Some(next),
        }
    }

    /// The ticks in `(after, until]`, oldest first, at most `limit`.
    pub fn ticks_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut at = after;
        while out.len() < limit {
            match self.next_after(at) {
                Some(t) if t <= until => {
                    out.push(t);
                    at = t;
                }
                _ => break,
            }
        }
        out
    }
}

/// `t` without its fraction of a second (ticks fall on whole seconds).
fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(0).unwrap_or(t)
}

/// A cron expression: 5 fields, or 6 with seconds first.
/// Most ticks one catch-up fires (`catch_up: all` after a long downtime).
pub const MAX_CATCH_UP: usize = 1000;

/// What a scheduler should do at `now` for one schedule: the ticks to fire, oldest first, and
/// the tick to remember as the last one handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// Ticks to start runs for, with `execution_date` = the tick.
    pub fire: Vec<DateTime<Utc>>,
    /// Remember this as the last tick handled (fired or deliberately skipped).
    pub last: DateTime<Utc>,
}

impl Schedule {
    /// The tick at or before `t`, within start/end.
    fn at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let t = match self.end {
            Some(e) if t > e => e,
            _ => t,
        };
        let (cron, tz) = self.parsed();
        let prev = cron
            .find_previous_occurrence(&whole_seconds(t).with_timezone(&tz), true)
            .ok()?
            .with_timezone(&Utc);
        match self.start {
            Some(s) if prev < s => None,
            _ => Some(prev),
        }
    }

    /// The ticks in `(after, upto]`, newest first, at most `max`.
    fn back(&self, upto: DateTime<Utc>, after: DateTime<Utc>, max: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut at = upto;
        while out.len() < max {
            match self.at_or_before(at) {
                Some(t) if t > after => {
                    out.push(t);
                    at = t - chrono::Duration::milliseconds(1);
                }
                _ => break,
            }
        }
        out
    }

    /// The ticks due at `now` after `last` (the last tick handled; `None` the first time the
    /// schedule is seen, when nothing in the past fires). A tick at most `grace` old is on
    /// time and fires; older ones were missed (weft was down) and follow `catch_up`.
    pub fn due(
        &self,
        last: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        grace: chrono::Duration,
    ) -> Due {
        let Some(last) = last else {
            return Due {
                fire: Vec::new(),
                last: now,
            };
        };
        let recent = self.back(now, last, MAX_CATCH_UP);
        let Some(&newest) = recent.first() else {
            return Due {
                fire: Vec::new(),
                last,
            };
        };
        let (on_time, missed): (Vec<_>, Vec<_>) =
            recent.into_iter().partition(|t| now - *t <= grace);
        let mut fire: Vec<DateTime<Utc>> = match self.catch_up {
            CatchUp::All => missed,
            CatchUp::Latest if on_time.is_empty() => missed.into_iter().take(1).collect(),
            CatchUp::Latest | CatchUp::Skip => Vec::new(),
        };
        fire.extend(on_time);
        fire.sort();
        Due { fire, last: newest }
    }
}

fn parse_cron(text: &str) -> Result<Cron, String> {
    Cron::from_str(text.trim()).map_err(|e| e.to_string())
}

/// Read `file` (shown as `shown`); a missing file means no triggers.
///
/// # Errors
/// Every problem, each naming the file and trigger.
pub fn load_triggers(file: &Path, shown: &Path) -> Result<Vec<Trigger>, ManifestErrors> {
    match std::fs::read_to_string(file) {
        Ok(text) => parse_triggers(&text, shown),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(ManifestError::Read {
            file: shown.to_path_buf(),
            reason: e.to_string(),
        }
        .into()),
    }
}

/// Parse triggers.yaml `text` as if read from `file`.
///
/// # Errors
/// Every problem, each naming the file and trigger.
pub fn parse_triggers(text: &str, file: &Path) -> Result<Vec<Trigger>, ManifestErrors> {
    let syntax = |reason: String| ManifestError::Syntax {
        file: file.to_path_buf(),
        reason,
    };
    let value: Value = serde_yaml::from_str(text).map_err(|e| syntax(e.to_string()))?;
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Sequence(items) => items,
        _ => {
            return Err(syntax(
                "triggers.yaml is a list of triggers, each with `name` and `type`".into(),
            )
            .into())
        }
    };
    let mut cx = Cx {
        file: file.to_path_buf(),
        errors: Vec::new(),
    };
    let mut out: Vec<Trigger> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(t) = cx.trigger(i, item) {
            if out.iter().any(|o| o.name == t.name) {
                cx.bad(
                    &t.name,
                    "name",
                    "is used by another trigger of this pipeline".into(),
                );
            }
            out.push(t);
        }
    }
    if cx.errors.is_empty() {
        Ok(out)
    } else {
        Err(ManifestErrors(cx.errors))
    }
}

struct Cx {
    file: PathBuf,
    errors: Vec<ManifestError>,
}

impl Cx {
    fn bad(&mut self, trigger: &str, field: &str, reason: String) {
        self.errors.push(ManifestError::TriggerField {
            file: self.file.clone(),
            trigger: trigger.to_string(),
            field: field.to_string(),
            reason,
        });
    }

    fn text(&mut self, map: &Mapping, trigger: &str, key: &str) -> Option<String> {
        match map.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => {
                self.bad(trigger, key, "must be text".into());
                None
            }
        }
    }

    fn trigger(&mut self, index: usize, item: &Value) -> Option<Trigger> {
        let fallback = format!("#{}", index + 1);
        let Value::Mapping(map) = item else {
            self.bad(
                &fallback,
                "-",
                "each trigger is a mapping with `name` and `type`".into(),
            );
            return None;
        };
        let name = match map.get("name") {
            Some(Value::String(s)) if valid_name(s) => s.clone(),
            Some(_) => {
                self.bad(
                    &fallback,
                    "name",
                    "must be letters, digits, `_` or `-` (it is part of a URL)".into(),
                );
                return None;
            }
            None => {
                self.bad(&fallback, "name", "is missing".into());
                return None;
            }
        };
        for key in map.keys() {
            let k = key.as_str().unwrap_or_default();
            if !FIELDS.contains(&k) {
                let hint = closest(k, FIELDS.iter().copied())
                    .map(|s| format!("; did you mean \"{s}\"?"))
                    .unwrap_or_default();
                self.bad(
                    &name,
                    k,
                    format!("unknown field{hint}; valid fields: {}", FIELDS.join(", ")),
                );
            }
        }
        let description = self.text(map, &name, "description");
        let variables = self.variables(map, &name);
        let kind = match self.text(map, &name, "type").as_deref() {
            Some("schedule") => TriggerKind::Schedule(self.schedule(map, &name)?),
            Some("api") => {
                for k in ["cron", "timezone", "start", "end", "catch_up"] {
                    if map.contains_key(k) {
                        self.bad(&name, k, "only schedule triggers have it".into());
                    }
                }
                TriggerKind::Api
            }
            Some(other) => {
                self.bad(
                    &name,
                    "type",
                    format!("`{other}` is not a trigger type; valid: schedule, api"),
                );
                return None;
            }
            None => {
                self.bad(&name, "type", "is missing; valid: schedule, api".into());
                return None;
            }
        };
        Some(Trigger {
            name,
            description,
            variables,
            kind,
        })
    }

    fn variables(&mut self, map: &Mapping, trigger: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        match map.get("variables") {
            None | Some(Value::Null) => {}
            Some(Value::Mapping(m)) => {
                for (k, v) in m {
                    let value = match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        Value::Bool(b) => Some(b.to_string()),
                        _ => None,
                    };
                    match (k.as_str(), value) {
                        (Some(k), Some(v)) => {
                            out.insert(k.to_string(), v);
                        }
                        _ => self.bad(
                            trigger,
                            "variables",
                            format!("{k:?}: names must be text and values scalars"),
                        ),
                    }
                }
            }
            Some(_) => self.bad(
                trigger,
                "variables",
                "must be a mapping of name: value".into(),
            ),
        }
        out
    }

    fn schedule(&mut self, map: &Mapping, trigger: &str) -> Option<Schedule> {
        let errors = self.errors.len();
        let cron = match self.text(map, trigger, "cron") {
            Some(c) => match parse_cron(&c) {
                Ok(_) => c,
                Err(e) => {
                    self.bad(trigger, "cron", format!("`{c}` is not a cron expression ({e}); e.g. \"0 3 * * *\" (03:00 daily) or \"*/10 * * * * *\" (every 10 s)"));
                    c
                }
            },
            None => {
                self.bad(trigger, "cron", "is missing; e.g. \"0 3 * * *\"".into());
                String::new()
            }
        };
        let timezone = self
            .text(map, trigger, "timezone")
            .unwrap_or_else(|| "UTC".into());
        let tz = chrono_tz::Tz::from_str(&timezone).ok();
        if tz.is_none() {
            self.bad(
                trigger,
                "timezone",
                format!("`{timezone}` is not an IANA time zone such as Europe/Amsterdam or UTC"),
            );
        }
        let tz = tz.unwrap_or(chrono_tz::UTC);
        let start = self.instant(map, trigger, "start", tz);
        let end = self.instant(map, trigger, "end", tz);
        if let (Some(s), Some(e)) = (start, end) {
            if e <= s {
                self.bad(trigger, "end", "must be after `start`".into());
            }
        }
        let catch_up = match self.text(map, trigger, "catch_up").as_deref() {
            None | Some("latest") => CatchUp::Latest,
            Some("skip") => CatchUp::Skip,
            Some("all") => CatchUp::All,
            Some(other) => {
                self.bad(
                    trigger,
                    "catch_up",
                    format!("`{other}` is not one of skip, latest, all"),
                );
                CatchUp::Latest
            }
        };
        (self.errors.len() == errors).then_some(Schedule {
            cron,
            timezone,
            start,
            end,
            catch_up,
        })
    }

    /// A date (`2024-01-31`, midnight in the trigger's zone) or an RFC 3339 instant.
    fn instant(
        &mut self,
        map: &Mapping,
        trigger: &str,
        key: &str,
        tz: chrono_tz::Tz,
    ) -> Option<DateTime<Utc>> {
        let text = self.text(map, trigger, key)?;
        if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
            return Some(t.with_timezone(&Utc));
        }
        let local = NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|d| tz.from_local_datetime(&d).earliest());
        if local.is_none() {
            self.bad(
                trigger,
                key,
                format!("`{text}` is not a date (2024-01-31) or an RFC 3339 time"),
            );
        }
        local.map(|t| t.with_timezone(&Utc))
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Trigger>, String> {
        parse_triggers(text, Path::new("pipelines/p/triggers.yaml")).map_err(|e| e.to_string())
    }

    #[test]
    fn schedules_fire_in_their_time_zone() {
        let t = parse(
            "- name: nightly\n  type: schedule\n  cron: \"0 3 * * *\"\n  timezone: Europe/Amsterdam\n  catch_up: all\n- name: webhook\n  type: api\n",
        )
        .unwrap();
        let TriggerKind::Schedule(s) = &t[0].kind else {
            panic!()
        };
        assert_eq!(s.catch_up, CatchUp::All);
        let after = DateTime::parse_from_rfc3339("2026-01-10T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        // 03:00 in Amsterdam is 02:00 UTC in winter.
        assert_eq!(
            s.next_after(after).unwrap().to_rfc3339(),
            "2026-01-11T02:00:00+00:00"
        );
        let until = after + chrono::Duration::days(3);
        assert_eq!(s.ticks_between(after, until, 10).len(), 3);
        assert_eq!(t[1].kind, TriggerKind::Api);
    }

    #[test]
    fn seconds_start_and_end_bound_the_ticks() {
        let t = parse(
            "- name: fast\n  type: schedule\n  cron: \"*/10 * * * * *\"\n  start: 2026-01-01T00:00:30Z\n  end: 2026-01-01T00:01:00Z\n",
        )
        .unwrap();
        let TriggerKind::Schedule(s) = &t[0].kind else {
            panic!()
        };
        let from = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let ticks: Vec<String> = s
            .ticks_between(from, from + chrono::Duration::hours(1), 100)
            .iter()
            .map(|t| t.format("%M:%S").to_string())
            .collect();
        assert_eq!(ticks, ["00:30", "00:40", "00:50", "01:00"]);
    }

    fn every_minute(catch_up: &str) -> Schedule {
        let t = parse(&format!(
            "- {{ name: m, type: schedule, cron: \"* * * * *\", catch_up: {catch_up} }}\n"
        ))
        .unwrap();
        match &t[0].kind {
            TriggerKind::Schedule(s) => s.clone(),
            TriggerKind::Api => panic!(),
        }
    }

    #[test]
    fn missed_ticks_follow_the_catch_up_policy() {
        let at = |m: u32, s: u32| {
            DateTime::parse_from_rfc3339(&format!("2026-03-01T10:{m:02}:{s:02}Z"))
                .unwrap()
                .with_timezone(&Utc)
        };
        let grace = chrono::Duration::seconds(30);
        let fmt = |d: &Due| {
            d.fire
                .iter()
                .map(|t| t.format("%M").to_string())
                .collect::<Vec<_>>()
        };
        // First sight: nothing from the past fires.
        let d = every_minute("all").due(None, at(5, 10), grace);
        assert!(d.fire.is_empty());
        assert_eq!(d.last, at(5, 10));
        // Normal operation: the tick just due fires, whatever the policy.
        for policy in ["skip", "latest", "all"] {
            let d = every_minute(policy).due(Some(at(4, 0)), at(5, 2), grace);
            assert_eq!(fmt(&d), ["05"], "{policy}");
            assert_eq!(d.last, at(5, 0));
        }
        // Down from 10:00 to 10:05:50: ticks 01..05 were missed.
        let down = (Some(at(0, 0)), at(5, 50));
        assert!(every_minute("skip")
            .due(down.0, down.1, grace)
            .fire
            .is_empty());
        assert_eq!(
            fmt(&every_minute("latest").due(down.0, down.1, grace)),
            ["05"]
        );
        assert_eq!(
            fmt(&every_minute("all").due(down.0, down.1, grace)),
            ["01", "02", "03", "04", "05"]
        );
        assert_eq!(
            every_minute("skip").due(down.0, down.1, grace).last,
            at(5, 0)
        );
        // Nothing due: the last tick stays.
        let d = every_minute("all").due(Some(at(5, 0)), at(5, 30), grace);
        assert!(d.fire.is_empty());
        assert_eq!(d.last, at(5, 0));
    }

    #[test]
    fn every_problem_is_named() {
        let e = parse(
            "- name: a\n  type: schedule\n  cron: \"61 * * * *\"\n  timezone: Mars/Olympus\n  catch_up: sometimes\n- name: a\n  type: api\n  cron: \"* * * * *\"\n- name: b\n  type: webhook\n- name: c d\n  type: api\n- name: e\n  type: api\n  varables: {}\n",
        )
        .unwrap_err();
        for needle in [
            "pipelines/p/triggers.yaml: trigger \"a\": field `cron`: `61 * * * *` is not a cron expression",
            "trigger \"a\": field `timezone`: `Mars/Olympus` is not an IANA time zone",
            "trigger \"a\": field `catch_up`: `sometimes` is not one of skip, latest, all",
            "trigger \"a\": field `cron`: only schedule triggers have it",
            "trigger \"b\": field `type`: `webhook` is not a trigger type",
            "trigger \"#4\": field `name`: must be letters",
            "trigger \"e\": field `varables`: unknown field; did you mean \"variables\"?",
        ] {
            assert!(e.contains(needle), "missing {needle:?} in\n{e}");
        }
        assert!(parse("{a: 1}")
            .unwrap_err()
            .contains("is a list of triggers"));
        assert!(parse("").unwrap().is_empty());
    }
}
