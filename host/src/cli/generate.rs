//! `weft generate taxi`: write realistic synthetic NYC yellow-taxi trips (CSV, gzip when the
//! name ends in `.gz`) to try pipelines and benchmarks without a download.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use flate2::write::GzEncoder;
use flate2::Compression;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::CliError;
use crate::taxi::{parse_month, write_csv, TaxiSpec};

/// Arguments of `weft generate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to generate.
    #[command(subcommand)]
    pub what: What,
}

/// Data sets `weft generate` can write.
#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// NYC yellow-taxi trips in the TLC's 2021 CSV layout, dirt included.
    Taxi {
        /// Number of trips (one month of real data is about 1.4 million).
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
        /// Month of the pickups, YYYY-MM.
        #[arg(long, default_value = "2021-01", value_parser = parse_month)]
        month: time::Date,
        /// Random seed: the same seed writes the same file.
        #[arg(long, default_value_t = 2021)]
        seed: u64,
        /// Output file; gzip-compressed when it ends in `.gz`.
        #[arg(long, short)]
        out: PathBuf,
        /// Print the row counts (written, dirty, clean) as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// Write the data set.
pub fn run(args: Args) -> Result<i32, CliError> {
    let What::Taxi {
        rows,
        month,
        seed,
        out,
        json,
    } = args.what;
    let io = |e: std::io::Error| CliError::Io {
        path: out.clone(),
        source: e,
    };
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let file = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out).map_err(io)?);
    let bar = ProgressBar::with_draw_target(Some(rows), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30.cyan/blue}] {human_pos}/{human_len} rows {per_sec}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix("generating");
    let spec = TaxiSpec { rows, month, seed };
    let mut progress = |n| bar.set_position(n);
    let stats = if out.extension().is_some_and(|e| e == "gz") {
        let mut gz = GzEncoder::new(file, Compression::default());
        let stats = write_csv(&spec, &mut gz, &mut progress).map_err(io)?;
        gz.finish().and_then(|mut f| f.flush()).map_err(io)?;
        stats
    } else {
        let mut file = file;
        let stats = write_csv(&spec, &mut file, &mut progress).map_err(io)?;
        file.flush().map_err(io)?;
        stats
    };
    bar.finish_and_clear();
    eprintln!(
        "wrote {} trips to {} ({} with empty fields, {} with no passengers, {} with no distance)",
        stats.rows,
        out.display(),
        stats.missing_fields,
        stats.zero_passengers,
        stats.zero_distance
    );
    if json {
        println!(
            "{}",
            serde_json::json!({
                "rows": stats.rows,
                "missing_fields": stats.missing_fields,
                "zero_passengers": stats.zero_passengers,
                "zero_distance": stats.zero_distance,
                "clean": stats.clean,
                "file": out.display().to_string(),
            })
        );
    }
    Ok(0)
}
