//! What a block sees of its run: config, variables, logging, and its named inputs.

use serde::de::DeserializeOwned;

use crate::bindings::weft::block::context as host;
use crate::bindings::weft::block::types::Level as WitLevel;
use crate::error::{Error, Result};
use crate::table::Table;

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Very detailed diagnostics.
    Trace,
    /// Diagnostics for the block's author.
    Debug,
    /// Normal progress.
    Info,
    /// Something unexpected.
    Warn,
    /// A failure.
    Error,
}

/// Write a line to the block run's log.
///
/// ```ignore
/// weft_sdk::log(weft_sdk::Level::Info, "starting");
/// ```
pub fn log(level: Level, message: impl AsRef<str>) {
    let level = match level {
        Level::Trace => WitLevel::Trace,
        Level::Debug => WitLevel::Debug,
        Level::Info => WitLevel::Info,
        Level::Warn => WitLevel::Warn,
        Level::Error => WitLevel::Error,
    };
    host::log(level, message.as_ref());
}

/// A run variable (`weft run --var k=v`, pipeline `variables:`) or a built-in: `run_id`,
/// `pipeline`, `block`, `attempt`, `execution_date`.
///
/// ```ignore
/// let date = weft_sdk::variable("execution_date").unwrap_or_default();
/// ```
pub fn variable(name: &str) -> Option<String> {
    host::variable(name)
}

/// The block's context: its `config:` and helpers for variables and logs. Every block
/// function receives one.
///
/// ```ignore
/// #[loader]
/// fn load(ctx: &Context, _inputs: Inputs) -> Result<()> {
///     ctx.info(format!("config: {}", ctx.config_json()));
///     Ok(())
/// }
/// ```
pub struct Context {
    config: String,
}

impl Context {
    #[doc(hidden)]
    pub fn new(config: String) -> Self {
        Context { config }
    }

    /// The block's `config:` deserialized into `T`.
    ///
    /// ```ignore
    /// #[derive(serde::Deserialize)]
    /// struct Config { rows: usize }
    /// let cfg: Config = ctx.config()?;
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field when the config does not fit `T`.
    pub fn config<T: DeserializeOwned>(&self) -> Result<T> {
        Ok(serde_json::from_str(&self.config)?)
    }

    /// The block's `config:` as JSON text.
    ///
    /// ```ignore
    /// let raw: serde_json::Value = serde_json::from_str(ctx.config_json())?;
    /// ```
    pub fn config_json(&self) -> &str {
        &self.config
    }

    /// A run variable; see [`variable`].
    ///
    /// ```ignore
    /// let day = ctx.variable("execution_date").unwrap_or_default();
    /// ```
    pub fn variable(&self, name: &str) -> Option<String> {
        variable(name)
    }

    /// Log at info level.
    ///
    /// ```ignore
    /// ctx.info("loaded 42 rows");
    /// ```
    pub fn info(&self, message: impl AsRef<str>) {
        log(Level::Info, message)
    }

    /// Log at warn level.
    ///
    /// ```ignore
    /// ctx.warn("3 rows had no date; dropped");
    /// ```
    pub fn warn(&self, message: impl AsRef<str>) {
        log(Level::Warn, message)
    }

    /// Log at debug level.
    ///
    /// ```ignore
    /// ctx.debug(format!("batch sizes: {sizes:?}"));
    /// ```
    pub fn debug(&self, message: impl AsRef<str>) {
        log(Level::Debug, message)
    }
}

/// The outputs of the block's upstream blocks, named after them, in `upstream:` order.
///
/// ```ignore
/// let left = inputs.get("left")?;
/// let right = inputs.get("right")?;
/// ```
pub struct Inputs {
    tables: Vec<(String, Table)>,
}

impl Inputs {
    #[doc(hidden)]
    pub fn new(tables: Vec<(String, Table)>) -> Self {
        Inputs { tables }
    }

    /// The output of upstream block `name`.
    ///
    /// ```ignore
    /// let orders = inputs.get("orders")?;
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] listing the available inputs when there is none by that name.
    pub fn get(&self, name: &str) -> Result<&Table> {
        self.tables
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t)
            .ok_or_else(|| {
                let names: Vec<&str> = self.tables.iter().map(|(n, _)| n.as_str()).collect();
                Error::InvalidInput(format!(
                    "no input named \"{name}\"; inputs: [{}]",
                    names.join(", ")
                ))
            })
    }

    /// Take ownership of the output of upstream block `name` (to return it unchanged).
    ///
    /// ```ignore
    /// #[transformer]
    /// fn pass(_: &Context, mut inputs: Inputs) -> Result<Table> { inputs.take("orders") }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when there is none by that name.
    pub fn take(&mut self, name: &str) -> Result<Table> {
        let i = self
            .tables
            .iter()
            .position(|(n, _)| n == name)
            .ok_or_else(|| Error::InvalidInput(format!("no input named \"{name}\"")))?;
        Ok(self.tables.remove(i).1)
    }

    /// The first input.
    ///
    /// ```ignore
    /// let batch = inputs.first()?.to_batch()?;
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the block has no inputs.
    pub fn first(&self) -> Result<&Table> {
        self.tables
            .first()
            .map(|(_, t)| t)
            .ok_or_else(|| Error::InvalidInput("the block has no upstream inputs".into()))
    }

    /// Number of inputs.
    ///
    /// ```ignore
    /// ensure(inputs.len() == 2, "expected two upstream blocks")?;
    /// ```
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// True when there are no inputs.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The inputs with their names.
    ///
    /// ```ignore
    /// for (name, table) in inputs.iter() { ctx.info(format!("{name}: {} rows", table.num_rows())); }
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Table)> {
        self.tables.iter().map(|(n, t)| (n.as_str(), t))
    }

    /// Consume into `(name, table)` pairs.
    pub fn into_vec(self) -> Vec<(String, Table)> {
        self.tables
    }
}
