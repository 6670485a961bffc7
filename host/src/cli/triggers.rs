//! `weft triggers`: the triggers of every pipeline (from `pipelines/<name>/triggers.yaml`),
//! with their next schedule tick; `weft triggers token` issues or rotates an API token.

use chrono::Utc;
use comfy_table::Table;
use weft_pipeline::{Trigger, TriggerKind};
use weft_store::{Store, TriggerSpec};

use crate::error::CliError;
use crate::project::Project;

/// Arguments of `weft triggers`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Issue or rotate a token.
    #[command(subcommand)]
    pub action: Option<Action>,
    /// Only triggers of this pipeline.
    #[arg(long, global = true)]
    pub pipeline: Option<String>,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// What `weft triggers` can do besides listing.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Issue a new bearer token for an API trigger, replacing the old one. The token is
    /// printed once (last line of stdout); the store keeps only its hash.
    Token {
        /// The API trigger.
        trigger: String,
    },
    /// Pause a trigger: a schedule fires no runs (and does not make them up when resumed),
    /// an API trigger refuses calls with 409. A running `weft serve` sees it at once.
    Pause {
        /// The trigger.
        trigger: String,
    },
    /// Resume a paused trigger.
    Resume {
        /// The trigger.
        trigger: String,
    },
}

/// Every trigger of the project, by pipeline, after syncing the store with the files.
pub(crate) async fn synced(
    project: &Project,
    store: &Store,
) -> Result<Vec<(String, Trigger)>, CliError> {
    synced_but(project, store, false).await
}

/// [`synced`]; with `skip_broken`, a pipeline whose triggers.yaml does not read keeps what
/// the store has of it (its tokens too), with a warning, instead of failing the rest.
pub(crate) async fn synced_but(
    project: &Project,
    store: &Store,
    skip_broken: bool,
) -> Result<Vec<(String, Trigger)>, CliError> {
    let mut all = Vec::new();
    let names = project.pipeline_names();
    for name in &names {
        let triggers = match project.triggers(name) {
            Ok(t) => t,
            Err(e) if skip_broken => {
                eprintln!("weft serve: the triggers of pipeline {name} are left as they were: {e}");
                continue;
            }
            Err(e) => return Err(e),
        };
        let specs: Vec<TriggerSpec> = triggers
            .iter()
            .map(|t| TriggerSpec {
                name: &t.name,
                kind: kind(t),
                spec: serde_json::to_string(t).unwrap_or_default(),
            })
            .collect();
        store
            .sync_triggers(name, &specs, weft_schedule::now_ms())
            .await?;
        all.extend(triggers.into_iter().map(|t| (name.clone(), t)));
    }
    // Pipelines that no longer exist have no triggers.
    for r in store.triggers(None).await? {
        if !names.contains(&r.pipeline) {
            store
                .sync_triggers(&r.pipeline, &[], weft_schedule::now_ms())
                .await?;
        }
    }
    Ok(all)
}

fn kind(t: &Trigger) -> &'static str {
    match t.kind {
        TriggerKind::Schedule(_) => "schedule",
        TriggerKind::Api => "api",
    }
}

/// List triggers, or issue a token.
pub fn run(project: &Project, args: Args) -> Result<i32, CliError> {
    super::block_on(async {
        let store = Store::connect(&project.state_url()).await?;
        let result = match &args.action {
            Some(Action::Token { trigger }) => {
                token(project, &store, trigger, args.pipeline.as_deref()).await
            }
            Some(Action::Pause { trigger }) => {
                pause(project, &store, trigger, args.pipeline.as_deref(), true).await
            }
            Some(Action::Resume { trigger }) => {
                pause(project, &store, trigger, args.pipeline.as_deref(), false).await
            }
            None => list(project, &store, &args).await,
        };
        store.close().await;
        result
    })
}

async fn list(project: &Project, store: &Store, args: &Args) -> Result<i32, CliError> {
    let all: Vec<(String, Trigger)> = synced(project, store)
        .await?
        .into_iter()
        .filter(|(p, _)| args.pipeline.as_ref().is_none_or(|want| want == p))
        .collect();
    let records = store.triggers(args.pipeline.as_deref()).await?;
    let now = Utc::now();
    let rows: Vec<serde_json::Value> = all
        .iter()
        .map(|(pipeline, t)| {
            let record = records
                .iter()
                .find(|r| r.pipeline == *pipeline && r.name == t.name);
            let (schedule, next, catch_up) = match &t.kind {
                TriggerKind::Schedule(s) => (
                    Some(format!("{} ({})", s.cron, s.timezone)),
                    s.next_after(now).map(|n| n.to_rfc3339()),
                    Some(format!("{:?}", s.catch_up).to_lowercase()),
                ),
                TriggerKind::Api => (None, None, None),
            };
            serde_json::json!({
                "pipeline": pipeline,
                "trigger": t.name,
                "type": kind(t),
                "schedule": schedule,
                "next": next,
                "catch_up": catch_up,
                "token": record.is_some_and(|r| r.has_token),
                "paused": record.is_some_and(|r| r.paused_at.is_some()),
                "path": matches!(t.kind, TriggerKind::Api)
                    .then(|| format!("/api/pipelines/{pipeline}/triggers/{}/runs", t.name)),
            })
        })
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return Ok(0);
    }
    if rows.is_empty() {
        eprintln!("no triggers: add pipelines/<name>/triggers.yaml");
        return Ok(0);
    }
    let mut t = Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header([
        "pipeline",
        "trigger",
        "type",
        "schedule / endpoint",
        "next",
        "token",
    ]);
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
    for r in &rows {
        let what = if r["type"] == "api" {
            text(&r["path"])
        } else {
            format!("{} catch-up {}", text(&r["schedule"]), text(&r["catch_up"]))
        };
        let token = match (r["type"].as_str(), r["token"].as_bool()) {
            (Some("api"), Some(true)) => "issued",
            (Some("api"), _) => "none: weft triggers token",
            _ => "",
        };
        t.add_row([
            text(&r["pipeline"]),
            text(&r["trigger"]),
            text(&r["type"]),
            what,
            if r["paused"] == true {
                "paused".to_string()
            } else {
                text(&r["next"])
            },
            token.to_string(),
        ]);
    }
    eprintln!("{t}");
    Ok(0)
}

async fn pause(
    project: &Project,
    store: &Store,
    trigger: &str,
    pipeline: Option<&str>,
    paused: bool,
) -> Result<i32, CliError> {
    let all = synced(project, store).await?;
    let (pipeline, found) = find(&all, trigger, pipeline, |_| true, "triggers")?;
    store
        .set_paused(pipeline, &found.name, paused, weft_schedule::now_ms())
        .await?;
    eprintln!(
        "{pipeline}/{trigger}: {}",
        if paused { "paused" } else { "resumed" }
    );
    Ok(0)
}

/// The one trigger of `all` called `trigger` (of `pipeline`, when given); the error lists
/// the triggers that pass `offered`, called `what`.
fn find<'a>(
    all: &'a [(String, Trigger)],
    trigger: &str,
    pipeline: Option<&str>,
    offered: impl Fn(&Trigger) -> bool,
    what: &str,
) -> Result<(&'a String, &'a Trigger), CliError> {
    let matches: Vec<&(String, Trigger)> = all
        .iter()
        .filter(|(p, t)| t.name == trigger && pipeline.is_none_or(|want| want == p))
        .collect();
    let (pipeline, found) = match matches.as_slice() {
        [one] => (&one.0, &one.1),
        [] => {
            let apis: Vec<String> = all
                .iter()
                .filter(|(_, t)| offered(t))
                .map(|(p, t)| format!("{p}/{}", t.name))
                .collect();
            return Err(CliError::Usage(format!(
                "no trigger \"{trigger}\"{}; {what}: {}",
                pipeline
                    .map(|p| format!(" in pipeline {p}"))
                    .unwrap_or_default(),
                if apis.is_empty() {
                    "none".to_string()
                } else {
                    apis.join(", ")
                }
            )));
        }
        many => {
            return Err(CliError::Usage(format!(
                "several pipelines have a trigger \"{trigger}\" ({}); pass --pipeline",
                many.iter()
                    .map(|(p, _)| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    };
    Ok((pipeline, found))
}

async fn token(
    project: &Project,
    store: &Store,
    trigger: &str,
    pipeline: Option<&str>,
) -> Result<i32, CliError> {
    let all = synced(project, store).await?;
    let (pipeline, found) = find(
        &all,
        trigger,
        pipeline,
        |t| t.kind == TriggerKind::Api,
        "API triggers",
    )?;
    if found.kind != TriggerKind::Api {
        return Err(CliError::Usage(format!(
            "trigger \"{trigger}\" of {pipeline} is a schedule; only `type: api` triggers have tokens"
        )));
    }
    let token = weft_server::issue_token(store, pipeline, trigger).await?;
    eprintln!(
        "token for {pipeline}/{trigger} (shown once; the store keeps only its hash; run this again to rotate it):"
    );
    println!("{token}");
    Ok(0)
}
