//! Block outputs kept in an object store as Arrow IPC files:
//! `runs/<run-id>/<block>/<attempt>.arrow`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use weft_data::Table;

use crate::error::ScheduleError;

/// Where block outputs are written and read.
#[derive(Clone)]
pub struct Outputs {
    store: Arc<dyn ObjectStore>,
    location: String,
    /// The folder behind `store` when it is local: outputs are then streamed straight to
    /// their files, never held whole in memory as bytes.
    folder: Option<PathBuf>,
}

impl Outputs {
    /// Outputs in a local folder (created if missing).
    ///
    /// # Errors
    /// [`ScheduleError::Outputs`] when the folder cannot be created.
    pub fn local(dir: &Path) -> Result<Outputs, ScheduleError> {
        let fail = |e: &dyn std::fmt::Display| ScheduleError::Outputs {
            location: dir.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
        let store = LocalFileSystem::new_with_prefix(dir).map_err(|e| fail(&e))?;
        Ok(Outputs {
            store: Arc::new(store),
            location: dir.display().to_string(),
            folder: Some(dir.to_path_buf()),
        })
    }

    /// Outputs in any object store.
    pub fn new(store: Arc<dyn ObjectStore>, location: impl Into<String>) -> Outputs {
        Outputs {
            store,
            location: location.into(),
            folder: None,
        }
    }

    /// Where the outputs live, for messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The object path of an attempt's output.
    pub fn path(run: &str, block: &str, attempt: u32) -> String {
        format!("runs/{run}/{block}/{attempt}.arrow")
    }

    /// Store `table` as the output of `block`'s `attempt`; returns the path and byte size.
    ///
    /// # Errors
    /// A message naming the path when encoding or writing fails.
    pub async fn put(
        &self,
        run: &str,
        block: &str,
        attempt: u32,
        table: &Table,
    ) -> Result<(String, u64), String> {
        let path = Self::path(run, block, attempt);
        let table = table.clone();
        if let Some(folder) = &self.folder {
            let file = folder.join(&path);
            let size = tokio::task::spawn_blocking(move || write_file(&table, &file))
                .await
                .map_err(|e| format!("write output {path}: {e}"))?
                .map_err(|e| format!("write output {path} to {}: {e}", self.location))?;
            return Ok((path, size));
        }
        let bytes = tokio::task::spawn_blocking(move || table.to_ipc_file())
            .await
            .map_err(|e| format!("encode output: {e}"))?
            .map_err(|e| format!("encode output: {e}"))?;
        let size = bytes.len() as u64;
        self.store
            .put(&ObjectPath::from(path.as_str()), PutPayload::from(bytes))
            .await
            .map_err(|e| format!("write output {path} to {}: {e}", self.location))?;
        Ok((path, size))
    }

    /// Whether a stored output is still there.
    pub async fn exists(&self, path: &str) -> bool {
        self.store.head(&ObjectPath::from(path)).await.is_ok()
    }

    /// Read a stored output back.
    ///
    /// # Errors
    /// [`ScheduleError::ReadOutput`] naming the path.
    pub async fn get(&self, path: &str) -> Result<Table, ScheduleError> {
        let fail = |e: &dyn std::fmt::Display| ScheduleError::ReadOutput {
            path: format!("{}/{path}", self.location),
            reason: e.to_string(),
        };
        let bytes = self
            .store
            .get(&ObjectPath::from(path))
            .await
            .map_err(|e| fail(&e))?
            .bytes()
            .await
            .map_err(|e| fail(&e))?;
        Table::from_ipc_file(bytes.to_vec()).map_err(|e| fail(&e))
    }
}

/// Stream `table` as an Arrow IPC file to `file` (through a temporary file beside it, renamed
/// into place when complete); returns its size.
fn write_file(table: &Table, file: &Path) -> Result<u64, String> {
    let dir = file.parent().ok_or("an output path has a folder")?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let tmp = file.with_extension(format!("arrow.tmp{}", std::process::id()));
    let written = std::fs::File::create(&tmp)
        .map_err(|e| e.to_string())
        .and_then(|f| {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
            table.write_ipc_file(&mut out).map_err(|e| e.to_string())?;
            let f = out.into_inner().map_err(|e| e.error().to_string())?;
            Ok(f.metadata().map_err(|e| e.to_string())?.len())
        })
        .and_then(|size| {
            std::fs::rename(&tmp, file).map_err(|e| e.to_string())?;
            Ok(size)
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
