//! Triggers as the store keeps them: one row per trigger of triggers.yaml (the file is the
//! truth, the store follows it), with what must survive restarts — the hash of an API
//! trigger's token and the last schedule tick fired.

use serde::Serialize;
use sqlx::Row;

use crate::error::{Context, StoreError};
use crate::store::Store;

/// A trigger as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerRecord {
    /// Pipeline name.
    pub pipeline: String,
    /// Trigger name.
    pub name: String,
    /// `schedule` or `api`.
    pub kind: String,
    /// The trigger as read from triggers.yaml, as JSON.
    pub spec: String,
    /// Whether an API token has been issued.
    pub has_token: bool,
    /// The last schedule tick fired, Unix ms.
    pub last_tick: Option<i64>,
    /// When the trigger was paused, Unix ms; `None` while it fires.
    pub paused_at: Option<i64>,
}

/// A trigger of triggers.yaml, for [`Store::sync_triggers`].
pub struct TriggerSpec<'a> {
    /// Trigger name.
    pub name: &'a str,
    /// `schedule` or `api`.
    pub kind: &'a str,
    /// The trigger as JSON.
    pub spec: String,
}

impl Store {
    /// Make the store's triggers of `pipeline` what its triggers.yaml says: new ones are
    /// added, changed ones updated (keeping their token and last tick), removed ones deleted.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn sync_triggers(
        &self,
        pipeline: &str,
        triggers: &[TriggerSpec<'_>],
        now: i64,
    ) -> Result<(), StoreError> {
        let action = || format!("sync the triggers of pipeline {pipeline}");
        let mut tx = self.pool.begin().await.during(action)?;
        let existing: Vec<String> =
            sqlx::query("SELECT name FROM weft_triggers WHERE pipeline = $1")
                .bind(pipeline)
                .fetch_all(&mut *tx)
                .await
                .during(action)?
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect();
        for gone in existing
            .iter()
            .filter(|n| !triggers.iter().any(|t| t.name == *n))
        {
            sqlx::query("DELETE FROM weft_triggers WHERE pipeline = $1 AND name = $2")
                .bind(pipeline)
                .bind(gone)
                .execute(&mut *tx)
                .await
                .during(action)?;
        }
        for t in triggers {
            if existing.iter().any(|n| n == t.name) {
                sqlx::query(
                    "UPDATE weft_triggers SET kind = $3, spec = $4, updated_at = $5 WHERE pipeline = $1 AND name = $2 AND (kind <> $3 OR spec <> $4)",
                )
            } else {
                sqlx::query(
                    "INSERT INTO weft_triggers (pipeline, name, kind, spec, updated_at) VALUES ($1, $2, $3, $4, $5)",
                )
            }
            .bind(pipeline)
            .bind(t.name)
            .bind(t.kind)
            .bind(&t.spec)
            .bind(now)
            .execute(&mut *tx)
            .await
            .during(action)?;
        }
        tx.commit().await.during(action)
    }

    /// Every trigger, or those of `pipeline`, by pipeline and name.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn triggers(&self, pipeline: Option<&str>) -> Result<Vec<TriggerRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT pipeline, name, kind, spec, token_hash, last_tick, paused_at FROM weft_triggers WHERE ($1 = '' OR pipeline = $1) ORDER BY pipeline, name",
        )
        .bind(pipeline.unwrap_or(""))
        .fetch_all(&self.pool)
        .await
        .during(|| "list triggers".into())?;
        Ok(rows
            .iter()
            .map(|r| TriggerRecord {
                pipeline: r.get(0),
                name: r.get(1),
                kind: r.get(2),
                spec: r.get(3),
                has_token: r.get::<Option<String>, _>(4).is_some(),
                last_tick: r.get(5),
                paused_at: r.get(6),
            })
            .collect())
    }

    /// Pause trigger `name` of `pipeline` (or resume it, with `paused` false). Returns false
    /// when the store has no such trigger.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn set_paused(
        &self,
        pipeline: &str,
        name: &str,
        paused: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE weft_triggers SET paused_at = CASE WHEN $1 = 1 THEN COALESCE(paused_at, $2) ELSE NULL END WHERE pipeline = $3 AND name = $4",
        )
        .bind(i64::from(paused))
        .bind(now)
        .bind(pipeline)
        .bind(name)
        .execute(&self.pool)
        .await
        .during(|| format!("pause trigger {name} of {pipeline}"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Store the hash of a new token of an API trigger, replacing the old one (rotation).
    /// Returns false when the store has no such trigger.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn set_token_hash(
        &self,
        pipeline: &str,
        trigger: &str,
        hash: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE weft_triggers SET token_hash = $3 WHERE pipeline = $1 AND name = $2",
        )
        .bind(pipeline)
        .bind(trigger)
        .bind(hash)
        .execute(&self.pool)
        .await
        .during(|| format!("store the token of trigger {pipeline}/{trigger}"))?;
        Ok(done.rows_affected() == 1)
    }

    /// The token hash of an API trigger, if one was issued.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn token_hash(
        &self,
        pipeline: &str,
        trigger: &str,
    ) -> Result<Option<String>, StoreError> {
        let row =
            sqlx::query("SELECT token_hash FROM weft_triggers WHERE pipeline = $1 AND name = $2")
                .bind(pipeline)
                .bind(trigger)
                .fetch_optional(&self.pool)
                .await
                .during(|| format!("read the token of trigger {pipeline}/{trigger}"))?;
        Ok(row.and_then(|r| r.get::<Option<String>, _>(0)))
    }
}

impl Store {
    /// Record `run` for idempotency key `key` of its API trigger, both in one transaction:
    /// returns the run that already holds the key when another call claimed it first (a
    /// retried webhook; nothing is recorded), or `None` when `run` was recorded under it.
    /// A call that fails records neither, so the key stays free for a retry.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn create_run_once(
        &self,
        run: &crate::store::NewRun<'_>,
        key: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let (pipeline, trigger) = (run.pipeline, run.trigger);
        let action = || format!("record a run of {pipeline}/{trigger} for its idempotency key");
        let mut tx = self.pool.begin().await.during(action)?;
        let inserted = sqlx::query(
            "INSERT INTO weft_idempotency (pipeline, trigger, key, run_id, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(pipeline)
        .bind(trigger)
        .bind(key)
        .bind(run.id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .during(action)?;
        if inserted.rows_affected() == 0 {
            let row = sqlx::query(
                "SELECT run_id FROM weft_idempotency WHERE pipeline = $1 AND trigger = $2 AND key = $3",
            )
            .bind(pipeline)
            .bind(trigger)
            .bind(key)
            .fetch_one(&mut *tx)
            .await
            .during(action)?;
            return Ok(Some(row.get(0)));
        }
        crate::store::insert_run(&mut tx, run)
            .await
            .during(action)?;
        tx.commit().await.during(action)?;
        Ok(None)
    }
}
