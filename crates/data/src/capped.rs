//! Scalar functions whose output a query can make vastly larger (or slower) than their input
//! — `repeat('x', 1e12)`, `lpad(s, 1e12)`, `levenshtein` of two megabyte strings — allocate
//! outside the engine's memory pool and never yield. In the host engine they are wrapped:
//! before a batch is computed, the largest output it could produce is bounded from the
//! arguments, and a batch past the bound fails the query instead of the host. Array
//! functions that materialise a list of any requested length are not offered at all.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::kernels::length::length;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature,
};
use datafusion::prelude::SessionContext;

/// Most bytes one batch of one capped function may produce.
pub const MAX_OUTPUT_BYTES: u64 = 256 << 20;
/// Most character comparisons one batch of `levenshtein` may make.
pub const MAX_EDIT_STEPS: u64 = 200_000_000;

/// Array functions that build lists of any requested length: not offered.
const WITHHELD: &[&str] = &["array_repeat", "array_resize", "range", "generate_series"];

/// How a function's output grows with its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Growth {
    /// `repeat(s, n)`: |s| × n bytes.
    Repeat,
    /// `lpad(s, n[, fill])`, `rpad`: n characters (up to 4 bytes each).
    Pad,
    /// `replace(s, from, to)`: up to |s| × |to| bytes (an empty `from` matches everywhere).
    Replace,
    /// `levenshtein(a, b)`: |a| × |b| steps.
    Edits,
}

/// Put the capped functions in place of the engine's own in `ctx`.
pub fn install(ctx: &SessionContext) {
    for name in WITHHELD {
        ctx.deregister_udf(name);
    }
    for (name, growth) in [
        ("repeat", Growth::Repeat),
        ("lpad", Growth::Pad),
        ("rpad", Growth::Pad),
        ("replace", Growth::Replace),
        ("levenshtein", Growth::Edits),
    ] {
        if let Some(inner) = ctx.state().scalar_functions().get(name).cloned() {
            ctx.register_udf(ScalarUDF::new_from_impl(Capped { inner, growth }));
        }
    }
}

/// A built-in function with its output bounded per batch.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Capped {
    inner: Arc<ScalarUDF>,
    growth: Growth,
}

impl Capped {
    fn check(&self, args: &ScalarFunctionArgs) -> Result<()> {
        let rows = args.number_rows.max(1) as u64;
        let a = args.args.first();
        let (bound, limit, what) = match self.growth {
            Growth::Repeat => (
                longest(a).saturating_mul(largest(args.args.get(1))),
                MAX_OUTPUT_BYTES,
                "bytes",
            ),
            Growth::Pad => (
                largest(args.args.get(1)).saturating_mul(4),
                MAX_OUTPUT_BYTES,
                "bytes",
            ),
            Growth::Replace => (
                longest(a).saturating_mul(longest(args.args.get(2)).max(1)),
                MAX_OUTPUT_BYTES,
                "bytes",
            ),
            Growth::Edits => (
                longest(a).saturating_mul(longest(args.args.get(1))),
                MAX_EDIT_STEPS,
                "steps",
            ),
        };
        let total = bound.saturating_mul(rows);
        if total > limit {
            return Err(DataFusionError::ResourcesExhausted(format!(
                "`{}` could make up to {total} {what} for {rows} row(s); the host engine allows {limit} per batch",
                self.inner.name()
            )));
        }
        Ok(())
    }
}

/// The longest string (in bytes) of a string argument; 0 for anything else.
fn longest(arg: Option<&ColumnarValue>) -> u64 {
    match arg {
        Some(ColumnarValue::Scalar(
            ScalarValue::Utf8(Some(v))
            | ScalarValue::LargeUtf8(Some(v))
            | ScalarValue::Utf8View(Some(v)),
        )) => v.len() as u64,
        Some(ColumnarValue::Scalar(_)) => 0,
        Some(ColumnarValue::Array(a)) => match a.data_type() {
            DataType::Utf8View => a
                .as_string_view()
                .iter()
                .flatten()
                .map(|s| s.len() as u64)
                .max()
                .unwrap_or(0),
            _ => length(a.as_ref())
                .ok()
                .and_then(|l| max_int(l.as_ref()))
                .unwrap_or(0),
        },
        None => 0,
    }
}

/// The largest integer of an integer argument (negative counts as 0).
fn largest(arg: Option<&ColumnarValue>) -> u64 {
    match arg {
        Some(ColumnarValue::Scalar(s)) => match s.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(Some(v))) => v.max(0) as u64,
            _ => 0,
        },
        Some(ColumnarValue::Array(a)) => max_int(a.as_ref()).unwrap_or(0),
        None => 0,
    }
}

fn max_int(a: &dyn Array) -> Option<u64> {
    let as_i64 = datafusion::arrow::compute::cast(a, &DataType::Int64).ok()?;
    let ints = as_i64.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
    datafusion::arrow::compute::max(ints).map(|v| v.max(0) as u64)
}

impl ScalarUDFImpl for Capped {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.check(&args)?;
        self.inner.invoke_with_args(args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

#[cfg(test)]
mod tests {
    use crate::{sql, DataError, QueryLimits};

    fn run(q: &str) -> Result<crate::Table, DataError> {
        sql(q, &[], &QueryLimits::memory(1 << 30))
    }

    #[test]
    fn growing_functions_are_bounded_per_batch() {
        for q in [
            "SELECT length(repeat(arrow_cast('x', 'LargeUtf8'), 1000000000000)) AS n",
            "SELECT length(repeat(chr(120), 2147483647)) AS n",
            "SELECT length(lpad('x', 2000000000)) AS n",
            "SELECT length(rpad('x', 2000000000, 'ab')) AS n",
            "SELECT levenshtein(repeat('a', 100000), repeat('b', 100000)) AS n",
            "SELECT length(repeat('ab', 1000 + v)) AS n FROM generate_series(1, 500000) AS t(v)",
        ] {
            let e = run(q).expect_err(q);
            assert!(matches!(e, DataError::Capped(_)), "{q}: {e}");
        }
        for q in [
            "SELECT array_repeat(1, 1000000000000) AS a",
            "SELECT range(0, 1000000000000) AS a",
            "SELECT generate_series(1, 1000000000000) AS a",
        ] {
            assert!(run(q).is_err(), "{q}");
        }
    }

    #[test]
    fn ordinary_uses_still_work() {
        let t = run("SELECT repeat('ab', 3) AS r, lpad('7', 3, '0') AS l, rpad('a', 2) AS p, replace('a-b', '-', '+') AS s, levenshtein('kitten', 'sitting') AS d").unwrap();
        let text = t.pretty(1).unwrap();
        assert!(
            text.contains("ababab") && text.contains("007") && text.contains("a+b"),
            "{text}"
        );
        assert!(text.contains("| 3 "), "{text}");
        let t = run("SELECT count(*) AS n FROM generate_series(1, 10) AS t(v)").unwrap();
        assert_eq!(t.num_rows(), 1);
    }
}
