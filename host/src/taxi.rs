//! Synthetic NYC yellow-taxi trip data, shaped like the TLC's 2021 CSV files: the same 18
//! columns and value formats, and the same dirt — empty vendor/passenger/rate/payment fields,
//! zero passengers, zero distances, negative (refunded) fares, pickups outside the month.

use std::io::Write;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::{Date, Duration, Month, PrimitiveDateTime, Time};

/// The header of a TLC yellow-taxi file.
pub const HEADER: &str = "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,trip_distance,RatecodeID,store_and_fwd_flag,PULocationID,DOLocationID,payment_type,fare_amount,extra,mta_tax,tip_amount,tolls_amount,improvement_surcharge,total_amount,congestion_surcharge";

/// What to generate.
#[derive(Debug, Clone)]
pub struct TaxiSpec {
    /// Rows (trips).
    pub rows: u64,
    /// The month the pickups fall in (first day).
    pub month: Date,
    /// Random seed: the same seed gives the same file.
    pub seed: u64,
}

/// Counts of the dirt written, so tests can check what a clean-up should remove.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TaxiStats {
    /// Rows written.
    pub rows: u64,
    /// Rows whose VendorID, passenger_count, RatecodeID, store_and_fwd_flag and payment_type are empty.
    pub missing_fields: u64,
    /// Rows with passenger_count 0.
    pub zero_passengers: u64,
    /// Rows with trip_distance 0.
    pub zero_distance: u64,
    /// Rows a `passenger_count > 0 AND trip_distance > 0` filter keeps.
    pub clean: u64,
}

fn fmt_time(t: PrimitiveDateTime) -> String {
    let (h, m, s) = t.time().as_hms();
    let d = t.date();
    format!(
        "{:04}-{:02}-{:02} {h:02}:{m:02}:{s:02}",
        d.year(),
        u8::from(d.month()),
        d.day()
    )
}

/// Write `spec.rows` trips as CSV (header first) to `out`, calling `progress` with rows done.
///
/// # Errors
/// The writer's error.
pub fn write_csv(
    spec: &TaxiSpec,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<TaxiStats> {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut stats = TaxiStats::default();
    let start = PrimitiveDateTime::new(spec.month, Time::MIDNIGHT);
    let days = spec.month.month().length(spec.month.year()) as i64;
    let span = days * 86_400;
    writeln!(out, "{HEADER}")?;
    let mut line = String::with_capacity(160);
    for i in 0..spec.rows {
        line.clear();
        // Pickups move through the month in order, with jitter; a few fall outside it.
        let base = (i as i64 * span) / spec.rows.max(1) as i64;
        let mut pickup = start + Duration::seconds(base + rng.random_range(0..120));
        if rng.random_ratio(1, 20_000) {
            pickup -= Duration::days(rng.random_range(1..40));
        }
        let minutes = rng.random_range(2..45) as i64;
        let dropoff = pickup + Duration::seconds(minutes * 60 + rng.random_range(0..60));
        let missing = rng.random_ratio(1, 20);
        let passengers: u32 = if rng.random_ratio(1, 50) {
            0
        } else {
            *[1, 1, 1, 1, 1, 2, 2, 3, 5, 6]
                .get(rng.random_range(0..10))
                .unwrap_or(&1)
        };
        let distance: f64 = if rng.random_ratio(3, 200) {
            0.0
        } else {
            (minutes as f64 * rng.random_range(0.15..0.45) * 100.0).round() / 100.0
        };
        let fare = (2.5 + distance * 2.5 + minutes as f64 * 0.5).round();
        let refund = rng.random_ratio(1, 500);
        let sign = if refund { -1.0 } else { 1.0 };
        let extra = if pickup.hour() >= 20 || pickup.hour() < 6 {
            0.5
        } else {
            0.0
        };
        let tip = if rng.random_bool(0.6) {
            (fare * rng.random_range(0.1..0.3) * 100.0).round() / 100.0
        } else {
            0.0
        };
        let tolls = if rng.random_ratio(1, 25) { 6.12 } else { 0.0 };
        let congestion = if missing || rng.random_bool(0.9) {
            2.5
        } else {
            0.0
        };
        let total = sign * (fare + extra + 0.5 + tip + tolls + 0.3 + congestion);
        let (vendor, rate, flag, payment, pax) = if missing {
            (
                String::new(),
                String::new(),
                "",
                String::new(),
                String::new(),
            )
        } else {
            (
                rng.random_range(1..=2).to_string(),
                if rng.random_ratio(1, 30) {
                    "2".into()
                } else {
                    "1".into()
                },
                if rng.random_ratio(1, 100) { "Y" } else { "N" },
                if tip > 0.0 {
                    "1".to_string()
                } else {
                    rng.random_range(1..=4).to_string()
                },
                passengers.to_string(),
            )
        };
        use std::fmt::Write as _;
        let _ = write!(
            line,
            "{vendor},{},{},{pax},{distance:.2},{rate},{flag},{},{},{payment},{},{},{},{},{},{},{},{}",
            fmt_time(pickup),
            fmt_time(dropoff),
            rng.random_range(1..=265),
            rng.random_range(1..=265),
            sign * fare,
            extra,
            sign * 0.5,
            tip,
            tolls,
            sign * 0.3,
            (total * 100.0).round() / 100.0,
            sign * congestion,
        );
        writeln!(out, "{line}")?;
        stats.rows += 1;
        if missing {
            stats.missing_fields += 1;
        } else if passengers == 0 {
            stats.zero_passengers += 1;
        }
        if distance == 0.0 {
            stats.zero_distance += 1;
        }
        if !missing && passengers > 0 && distance > 0.0 {
            stats.clean += 1;
        }
        if i % 65_536 == 0 {
            progress(i);
        }
    }
    progress(spec.rows);
    Ok(stats)
}

/// The first day of `YYYY-MM`.
///
/// # Errors
/// A message when `text` is not such a month.
pub fn parse_month(text: &str) -> Result<Date, String> {
    let bad = || format!("`{text}` is not a month; write YYYY-MM, e.g. 2021-01");
    let (y, m) = text.split_once('-').ok_or_else(bad)?;
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m: u8 = m.parse().map_err(|_| bad())?;
    let month = Month::try_from(m).map_err(|_| bad())?;
    Date::from_calendar_date(y, month, 1).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_rows_with_the_dirt_of_real_files() {
        let spec = TaxiSpec {
            rows: 20_000,
            month: parse_month("2021-01").unwrap(),
            seed: 7,
        };
        let mut a = Vec::new();
        let stats = write_csv(&spec, &mut a, &mut |_| {}).unwrap();
        let mut b = Vec::new();
        write_csv(&spec, &mut b, &mut |_| {}).unwrap();
        assert_eq!(a, b);
        let text = String::from_utf8(a).unwrap();
        assert_eq!(text.lines().count(), 20_001);
        assert!(text.lines().nth(1).unwrap().contains(",2021-01-01 00:"));
        assert_eq!(stats.rows, 20_000);
        assert!(
            stats.missing_fields > 500 && stats.zero_passengers > 100 && stats.zero_distance > 100,
            "{stats:?}"
        );
        assert!(
            text.lines().any(|l| l.starts_with(",2021-")),
            "rows with empty VendorID"
        );
        assert!(stats.clean < stats.rows && stats.clean > stats.rows * 8 / 10);
        assert!(parse_month("2021-13").is_err());
    }
}
