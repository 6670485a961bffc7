//! Notebook editing: a block's source read and saved (the file on disk is the truth, and a
//! save never overwrites an edit it has not seen), blocks added and connected by editing
//! pipeline.yaml. Every change loads the pipeline again; what does not load is answered as a
//! problem with its file and line, and the server keeps running the last version that did.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use weft_pipeline::edit::{Edit, EditError, NewBlock};

use crate::error::ApiError;
use crate::state::AppState;
use crate::workspace::{
    create_new, inside, read_source, source_file, version, write_atomic, Problem, Shared,
};

/// Largest source a save takes.
pub const MAX_SOURCE: usize = 1 << 20;

/// A block's source as it is on disk.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BlockSource {
    /// The block.
    pub block: String,
    /// `python`, `sql`, `rust`, `wasm` or `package`.
    pub language: String,
    /// The file, relative to the project (empty when not editable).
    pub file: String,
    /// Its text.
    pub text: String,
    /// The version of the text: send it back with a save.
    pub version: String,
    /// Whether the UI may change it (prebuilt components and packages cannot be).
    pub editable: bool,
}

/// A save of a block's source.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveSource {
    /// The new text.
    pub text: String,
    /// The version the text was edited from (from the source's `GET`); when the file changed
    /// since, nothing is written (409).
    pub version: String,
}

/// What a change did.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Changed {
    /// The file's version now.
    pub version: String,
    /// Why the pipeline does not load as it is now on disk (`null`: it loaded and runs).
    #[schema(required = true)]
    pub problem: Option<Problem>,
}

/// A block to add.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddBlock {
    /// Its name: letters, digits and `_`.
    pub name: String,
    /// `loader`, `transformer`, `exporter`, `sensor`, `condition`, `dynamic` or `callback`.
    pub kind: String,
    /// `python` (default) or `sql`.
    #[serde(default = "python")]
    pub language: String,
    /// Blocks it reads.
    #[serde(default)]
    pub upstream: Vec<String>,
}

fn python() -> String {
    "python".into()
}

/// A block's new upstream blocks.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetUpstream {
    /// Its upstream blocks, in order (empty: none).
    pub upstream: Vec<String>,
}

fn workspace(state: &AppState) -> Result<Shared, ApiError> {
    state.workspace().cloned().ok_or_else(|| {
        ApiError::Conflict(
            "this server does not edit pipelines (it was not started on a project)".into(),
        )
    })
}

fn relative(ws: &Shared, path: &std::path::Path) -> String {
    let root = ws
        .root()
        .canonicalize()
        .unwrap_or_else(|_| ws.root().into());
    path.strip_prefix(&root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// The file of `block` in `pipeline`, checked to lie in the project.
fn block_file(
    state: &AppState,
    pipeline: &str,
    block: &str,
) -> Result<(Shared, Option<std::path::PathBuf>, &'static str), ApiError> {
    let ws = workspace(state)?;
    let loaded = state.pipeline(pipeline)?;
    let b = loaded
        .pipeline
        .blocks
        .iter()
        .find(|b| b.name == block)
        .ok_or_else(|| {
            ApiError::NotFound(format!("pipeline {pipeline} has no block \"{block}\""))
        })?;
    let language = super::pipelines::language(&b.source);
    let file = match source_file(&b.source) {
        Some(f) => Some(inside(ws.root(), &f)?),
        None => None,
    };
    Ok((ws, file, language))
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, ApiError> {
    read_source(path, MAX_SOURCE)
}

/// The kinds a new block may have.
const KINDS: &[&str] = &[
    "loader",
    "transformer",
    "exporter",
    "sensor",
    "condition",
    "dynamic",
    "callback",
];

/// A block's source file as it is on disk now.
#[utoipa::path(get, path = "/api/pipelines/{pipeline}/blocks/{block}/source", operation_id = "get_block_source", tag = "pipelines",
    params(("pipeline" = String, Path, description = "Pipeline name"), ("block" = String, Path, description = "Block name")),
    responses((status = 200, body = BlockSource), (status = 403, description = "The source lies outside the project"),
        (status = 404, description = "No such pipeline or block")))]
pub async fn get_source(
    State(state): State<AppState>,
    Path((pipeline, block)): Path<(String, String)>,
) -> Result<Json<BlockSource>, ApiError> {
    let (ws, file, language) = block_file(&state, &pipeline, &block)?;
    if language == "python" {
        // Someone is about to edit: make the runner for edited Python blocks ready.
        state.prepare_edits();
    }
    let Some(file) = file else {
        return Ok(Json(BlockSource {
            block,
            language: language.into(),
            file: String::new(),
            text: String::new(),
            version: String::new(),
            editable: false,
        }));
    };
    let bytes = read(&file)?;
    Ok(Json(BlockSource {
        block,
        language: language.into(),
        file: relative(&ws, &file),
        version: version(&bytes),
        text: String::from_utf8_lossy(&bytes).into_owned(),
        // A Rust block's build runs native build scripts and macros: it is shown, and
        // edited in the user's own editor, not over the API.
        editable: language != "rust",
    }))
}

/// Save a block's source: the file is replaced whole, then the pipeline is loaded again
/// (and the block built); the answer says whether it loads.
#[utoipa::path(put, path = "/api/pipelines/{pipeline}/blocks/{block}/source", operation_id = "save_block_source", tag = "pipelines",
    params(("pipeline" = String, Path, description = "Pipeline name"), ("block" = String, Path, description = "Block name")),
    request_body = SaveSource,
    responses((status = 200, body = Changed), (status = 400, description = "A body that cannot be read, named"),
        (status = 403, description = "The source lies outside the project"),
        (status = 404, description = "No such pipeline or block"),
        (status = 409, description = "The file changed since `version`, or the block cannot be edited"),
        (status = 413, description = "Over 1 MiB")))]
pub async fn save_source(
    State(state): State<AppState>,
    Path((pipeline, block)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Changed>, ApiError> {
    if body.len() > MAX_SOURCE {
        return Err(ApiError::TooLarge(format!(
            "a block source is at most {MAX_SOURCE} bytes"
        )));
    }
    let req: SaveSource = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("source body: {e}")))?;
    let (ws, file, language) = block_file(&state, &pipeline, &block)?;
    let file = file.filter(|_| language != "rust").ok_or_else(|| {
        ApiError::Conflict(match language {
            "rust" => format!("block \"{block}\" is a Rust crate: its build runs native code, so edit it in your own editor (the server loads the change)"),
            _ => format!("block \"{block}\" is a {language} component; its source is not in this project"),
        })
    })?;
    // One change to a pipeline's files at a time: a check and its write are never split.
    let lock = state.reloads().edit_lock(&pipeline);
    let _editing = lock.lock().await;
    let now = version(&read(&file)?);
    if req.version != now {
        return Err(ApiError::Conflict(format!(
            "{} changed on disk since it was opened (another editor?); load it again before saving",
            relative(&ws, &file)
        )));
    }
    let problem = if version(req.text.as_bytes()) == now {
        // Nothing to write or build: the latest load says how it stands.
        state.reloads().of(&pipeline).and_then(|s| s.problem)
    } else {
        write_atomic(&file, req.text.as_bytes())?;
        state.reload(&pipeline).await?
    };
    Ok(Json(Changed {
        version: version(req.text.as_bytes()),
        problem,
    }))
}

/// The first text of a new block.
fn template(kind: &str, language: &str, name: &str, upstream: &[String]) -> String {
    if language == "sql" {
        let from = upstream
            .first()
            .map_or_else(|| "(SELECT 1 AS one)".to_string(), |_| "{{ df_1 }}".into());
        return format!(
            "-- {name}: a SQL block run by the host's query engine.\nSELECT *\nFROM {from}\n"
        );
    }
    let (args, body) = match kind {
        "loader" => ("**kwargs", "    return [{\"id\": 1, \"name\": \"first\"}]"),
        "sensor" | "condition" => ("*tables, **kwargs", "    return True"),
        "exporter" | "callback" => (
            "*tables, **kwargs",
            "    context.log(f\"{len(tables)} table(s) in\")\n    return None",
        ),
        "dynamic" => ("**kwargs", "    return [{\"item\": 1}, {\"item\": 2}]"),
        _ => ("data, **kwargs", "    return data"),
    };
    let decorator = kind;
    format!(
        "\"\"\"{name}.\"\"\"\nfrom weft import {decorator}, context  # noqa: F401\n\n\n@{decorator}\ndef {name}({args}):\n{body}\n"
    )
}

/// Edit pipeline.yaml with `edit`, checked by loading it; answers the problem if it does
/// not load (the file is then left as it was).
async fn edit_manifest(
    state: &AppState,
    ws: &Shared,
    pipeline: &str,
    edit: &Edit,
) -> Result<Changed, ApiError> {
    let manifest = ws
        .root()
        .join("pipelines")
        .join(pipeline)
        .join("pipeline.yaml");
    let manifest = inside(ws.root(), &manifest)?;
    let before = read(&manifest)?;
    let text = String::from_utf8(before.clone())
        .map_err(|_| ApiError::Conflict("pipeline.yaml is not UTF-8 text".into()))?;
    let edited = weft_pipeline::edit::apply(&text, edit).map_err(|e| match e {
        EditError::Invalid(m) => ApiError::BadRequest(m),
        EditError::NoSuchBlock(_) => ApiError::NotFound(e.to_string()),
        other => ApiError::Conflict(other.to_string()),
    })?;
    write_atomic(&manifest, edited.as_bytes())?;
    let problem = state.reload(pipeline).await?;
    if let Some(p) = problem {
        // A change the validator refuses (a cycle, an unknown block) is taken back — unless
        // another editor changed the file meanwhile: then theirs stands.
        if read(&manifest)? == edited.as_bytes() {
            write_atomic(&manifest, &before)?;
            state.reload(pipeline).await?;
        }
        return Err(ApiError::Conflict(format!(
            "pipeline.yaml would not load: {}",
            p.message
        )));
    }
    Ok(Changed {
        version: version(edited.as_bytes()),
        problem: None,
    })
}

/// Add a block: its file is written from a template under `blocks/<pipeline>/` and it is
/// appended to pipeline.yaml.
#[utoipa::path(post, path = "/api/pipelines/{pipeline}/blocks", operation_id = "add_block", tag = "pipelines",
    params(("pipeline" = String, Path, description = "Pipeline name")),
    request_body = AddBlock,
    responses((status = 201, body = Changed), (status = 400, description = "A body that cannot be read, named"),
        (status = 404, description = "No such pipeline"),
        (status = 409, description = "The name is taken, the file exists, or pipeline.yaml cannot be edited or would not load")))]
pub async fn add(
    State(state): State<AppState>,
    Path(pipeline): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Changed>), ApiError> {
    let req: AddBlock = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("block body: {e}")))?;
    let ws = workspace(&state)?;
    state.pipeline(&pipeline)?;
    let ext = match req.language.as_str() {
        "python" => "py",
        "sql" => "sql",
        other => {
            return Err(ApiError::BadRequest(format!(
                "language: `{other}`; new blocks are `python` or `sql`"
            )))
        }
    };
    if req.name.is_empty()
        || !req
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        || req.name.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(ApiError::BadRequest(format!(
            "name: `{}` must be letters, digits and `_`, not starting with a digit",
            req.name
        )));
    }
    if !KINDS.contains(&req.kind.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "kind: `{}` is not one of {}",
            req.kind,
            KINDS.join(", ")
        )));
    }
    let source = format!("blocks/{pipeline}/{}.{ext}", req.name);
    // The folder is made only once `blocks/` is known to be the project's own.
    inside(ws.root(), &ws.root().join("blocks"))?;
    let dir = ws.root().join("blocks").join(&pipeline);
    if !dir.exists() {
        std::fs::create_dir_all(&dir)
            .map_err(|e| ApiError::Internal(format!("creating blocks/{pipeline}: {e}")))?;
    }
    let file = inside(ws.root(), &ws.root().join(&source))?;
    let lock = state.reloads().edit_lock(&pipeline);
    let _editing = lock.lock().await;
    create_new(
        &file,
        template(&req.kind, &req.language, &req.name, &req.upstream).as_bytes(),
    )?;
    let edit = Edit::AddBlock(NewBlock {
        name: req.name,
        kind: req.kind,
        source,
        upstream: req.upstream,
    });
    match edit_manifest(&state, &ws, &pipeline, &edit).await {
        Ok(changed) => Ok((StatusCode::CREATED, Json(changed))),
        Err(e) => {
            // The file this request made, and no other.
            let _ = std::fs::remove_file(&file);
            Err(e)
        }
    }
}

/// Set a block's upstream blocks (connect or disconnect it) in pipeline.yaml.
#[utoipa::path(put, path = "/api/pipelines/{pipeline}/blocks/{block}/upstream", operation_id = "set_block_upstream", tag = "pipelines",
    params(("pipeline" = String, Path, description = "Pipeline name"), ("block" = String, Path, description = "Block name")),
    request_body = SetUpstream,
    responses((status = 200, body = Changed), (status = 400, description = "A body that cannot be read, named"),
        (status = 404, description = "No such pipeline or block"),
        (status = 409, description = "pipeline.yaml cannot be edited there, or would not load (a cycle, an unknown block)")))]
pub async fn set_upstream(
    State(state): State<AppState>,
    Path((pipeline, block)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Changed>, ApiError> {
    let req: SetUpstream = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("upstream body: {e}")))?;
    let ws = workspace(&state)?;
    let loaded = state.pipeline(&pipeline)?;
    if !loaded.pipeline.blocks.iter().any(|b| b.name == block) {
        return Err(ApiError::NotFound(format!(
            "pipeline {pipeline} has no block \"{block}\""
        )));
    }
    let edit = Edit::SetUpstream {
        block,
        upstream: req.upstream,
    };
    let lock = state.reloads().edit_lock(&pipeline);
    let _editing = lock.lock().await;
    Ok(Json(edit_manifest(&state, &ws, &pipeline, &edit).await?))
}
