//! Backfill intervals: `--start 2021-01-01 --end 2021-01-31 --every 1d` → one execution
//! date per interval, start and end included.

use chrono::{DateTime, Months, NaiveDate, Utc};

/// Most runs one backfill may create.
pub const MAX_BACKFILL_RUNS: usize = 10_000;

/// A step between two execution dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    /// A fixed duration (`1d`, `6h`, `15m`, `1w`).
    Fixed(chrono::Duration),
    /// Calendar months (`1mo`, `3mo`): the same day of the month, clamped to its end.
    Months(u32),
}

impl Every {
    /// Parse `1d`, `12h`, `30m`, `1w`, `1mo`...
    ///
    /// # Errors
    /// A message naming the value and what is accepted.
    pub fn parse(text: &str) -> Result<Every, String> {
        let t = text.trim();
        let bad = || {
            format!("every: `{text}` is not an interval; use e.g. 1d, 6h, 15m, 1w or 1mo (months)")
        };
        if let Some(n) = t
            .strip_suffix("months")
            .or_else(|| t.strip_suffix("month"))
            .or_else(|| t.strip_suffix("mo"))
        {
            let n: u32 = n.trim().parse().map_err(|_| bad())?;
            return if n == 0 {
                Err(bad())
            } else {
                Ok(Every::Months(n))
            };
        }
        let d = humantime::parse_duration(t).map_err(|_| bad())?;
        let d = chrono::Duration::from_std(d).map_err(|_| bad())?;
        if d < chrono::Duration::seconds(1) {
            return Err(format!("every: `{text}` is shorter than one second"));
        }
        Ok(Every::Fixed(d))
    }

    fn after(self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Every::Fixed(d) => t.checked_add_signed(d),
            Every::Months(n) => t.checked_add_months(Months::new(n)),
        }
    }
}

/// A date (`2021-01-01`, midnight UTC) or an RFC 3339 time; `field` names it in errors.
///
/// # Errors
/// A message naming the field and the value.
pub fn parse_time(field: &str, text: &str) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        if let Some(dt) = d.and_hms_opt(0, 0, 0) {
            return Ok(dt.and_utc());
        }
    }
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            format!("{field}: `{text}` is not a date (2021-01-31) or an RFC 3339 time (2021-01-31T06:00:00Z)")
        })
}

/// Execution dates from `start` to `end` (both included) every `every`.
///
/// # Errors
/// A message naming the field at fault: an unreadable value, an end before the start, or
/// more than [`MAX_BACKFILL_RUNS`] intervals.
pub fn backfill_dates(start: &str, end: &str, every: &str) -> Result<Vec<DateTime<Utc>>, String> {
    let start_at = parse_time("start", start)?;
    let end_at = parse_time("end", end)?;
    let step = Every::parse(every)?;
    if end_at < start_at {
        return Err(format!("end: `{end}` is before start `{start}`"));
    }
    let mut out = Vec::new();
    let mut k = 0u32;
    loop {
        // Months step from the start each time, so Jan 31 + 1mo + 1mo is Mar 31, not Mar 28.
        let at = match step {
            Every::Months(n) => start_at.checked_add_months(Months::new(n * k)),
            Every::Fixed(_) if k == 0 => Some(start_at),
            Every::Fixed(_) => out.last().copied().and_then(|t| step.after(t)),
        };
        match at {
            Some(t) if t <= end_at => out.push(t),
            _ => break,
        }
        if out.len() > MAX_BACKFILL_RUNS {
            return Err(format!(
                "every: `{every}` from {start} to {end} makes more than {MAX_BACKFILL_RUNS} runs"
            ));
        }
        k += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_include_both_ends() {
        let d = backfill_dates("2021-01-01", "2021-01-31", "1d").unwrap();
        assert_eq!(d.len(), 31);
        assert_eq!(d[0].to_rfc3339(), "2021-01-01T00:00:00+00:00");
        assert_eq!(d[30].to_rfc3339(), "2021-01-31T00:00:00+00:00");
        let h = backfill_dates("2021-01-01T00:00:00Z", "2021-01-01T23:00:00Z", "6h").unwrap();
        assert_eq!(h.len(), 4);
    }

    #[test]
    fn months_keep_the_day_where_they_can() {
        let d = backfill_dates("2021-01-31", "2021-04-30", "1mo").unwrap();
        let shown: Vec<String> = d.iter().map(|t| t.format("%m-%d").to_string()).collect();
        assert_eq!(shown, ["01-31", "02-28", "03-31", "04-30"]);
    }

    #[test]
    fn bad_values_name_their_field() {
        assert!(backfill_dates("yesterday", "2021-01-02", "1d")
            .unwrap_err()
            .starts_with("start:"));
        assert!(backfill_dates("2021-01-01", "2021-13-02", "1d")
            .unwrap_err()
            .starts_with("end:"));
        assert!(backfill_dates("2021-01-02", "2021-01-01", "1d")
            .unwrap_err()
            .contains("before"));
        assert!(backfill_dates("2021-01-01", "2021-01-02", "daily")
            .unwrap_err()
            .starts_with("every:"));
        assert!(backfill_dates("2000-01-01", "2021-01-01", "1m")
            .unwrap_err()
            .contains("more than"));
        assert!(backfill_dates("2021-01-01", "2021-01-02", "0mo").is_err());
    }
}
