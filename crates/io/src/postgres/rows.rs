//! Postgres rows → Arrow record batches, typed from the statement's description so an empty
//! result still has its columns.

use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Float32Builder,
    Float64Builder, Int16Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use sqlx::postgres::PgRow;
use sqlx::{Column, Row};

use crate::error::IoError;

/// Days from 1970-01-01 to a date.
fn days(d: time::Date) -> i32 {
    (d - time::Date::from_calendar_date(1970, time::Month::January, 1).expect("valid date"))
        .whole_days() as i32
}

/// The Arrow type for a Postgres type name.
pub(crate) fn arrow_type(column: &str, pg: &str) -> Result<DataType, IoError> {
    Ok(match pg {
        "BOOL" => DataType::Boolean,
        "INT2" => DataType::Int16,
        "INT4" => DataType::Int32,
        "INT8" => DataType::Int64,
        "FLOAT4" => DataType::Float32,
        "FLOAT8" | "NUMERIC" => DataType::Float64,
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" => DataType::Utf8,
        "BYTEA" => DataType::Binary,
        "DATE" => DataType::Date32,
        "TIMESTAMP" => DataType::Timestamp(TimeUnit::Microsecond, None),
        "TIMESTAMPTZ" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        other => {
            return Err(IoError::Invalid(format!(
                "column `{column}` has Postgres type {other}, which weft does not read yet; cast it in the query, e.g. `{column}::text`"
            )))
        }
    })
}

/// Builds record batches from rows of a known schema.
pub(crate) struct Batcher {
    schema: SchemaRef,
    pg_types: Vec<String>,
    builders: Vec<Box<dyn ArrayBuilder>>,
}

impl Batcher {
    /// A batcher for columns `(name, postgres type name)`.
    pub(crate) fn new(columns: &[(String, String)]) -> Result<Batcher, IoError> {
        let mut fields = Vec::with_capacity(columns.len());
        for (name, pg) in columns {
            fields.push(Field::new(name, arrow_type(name, pg)?, true));
        }
        let schema = Arc::new(Schema::new(fields));
        let mut b = Batcher {
            schema,
            pg_types: columns.iter().map(|(_, t)| t.clone()).collect(),
            builders: Vec::new(),
        };
        b.reset();
        Ok(b)
    }

    fn reset(&mut self) {
        self.builders = self
            .schema
            .fields()
            .iter()
            .map(|f| arrow::array::make_builder(f.data_type(), 1024))
            .collect();
    }

    /// The schema of the batches.
    pub(crate) fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Rows added since the last batch.
    pub(crate) fn len(&self) -> usize {
        self.builders.first().map_or(0, |b| b.len())
    }

    /// Add one row.
    pub(crate) fn push(&mut self, row: &PgRow) -> Result<(), IoError> {
        for (i, pg) in self.pg_types.iter().enumerate() {
            let name = row.column(i).name().to_string();
            let bad = |e: sqlx::Error| IoError::Data(format!("column `{name}`: {e}"));
            let b = &mut self.builders[i];
            macro_rules! put {
                ($builder:ty, $t:ty) => {{
                    let v: Option<$t> = row.try_get(i).map_err(bad)?;
                    b.as_any_mut()
                        .downcast_mut::<$builder>()
                        .expect("builder matches the schema")
                        .append_option(v);
                }};
            }
            match pg.as_str() {
                "BOOL" => put!(BooleanBuilder, bool),
                "INT2" => put!(Int16Builder, i16),
                "INT4" => put!(Int32Builder, i32),
                "INT8" => put!(Int64Builder, i64),
                "FLOAT4" => put!(Float32Builder, f32),
                "FLOAT8" => put!(Float64Builder, f64),
                "NUMERIC" => {
                    let v: Option<rust_decimal::Decimal> = row.try_get(i).map_err(bad)?;
                    let v = v.and_then(|d| rust_decimal::prelude::ToPrimitive::to_f64(&d));
                    b.as_any_mut()
                        .downcast_mut::<Float64Builder>()
                        .expect("builder matches the schema")
                        .append_option(v);
                }
                "BYTEA" => put!(BinaryBuilder, Vec<u8>),
                "DATE" => {
                    let v: Option<time::Date> = row.try_get(i).map_err(bad)?;
                    b.as_any_mut()
                        .downcast_mut::<Date32Builder>()
                        .expect("builder matches the schema")
                        .append_option(v.map(days));
                }
                "TIMESTAMP" => {
                    let v: Option<time::PrimitiveDateTime> = row.try_get(i).map_err(bad)?;
                    b.as_any_mut()
                        .downcast_mut::<TimestampMicrosecondBuilder>()
                        .expect("builder matches the schema")
                        .append_option(
                            v.map(|t| (t.assume_utc().unix_timestamp_nanos() / 1000) as i64),
                        );
                }
                "TIMESTAMPTZ" => {
                    let v: Option<time::OffsetDateTime> = row.try_get(i).map_err(bad)?;
                    b.as_any_mut()
                        .downcast_mut::<TimestampMicrosecondBuilder>()
                        .expect("builder matches the schema")
                        .append_option(v.map(|t| (t.unix_timestamp_nanos() / 1000) as i64));
                }
                _ => put!(StringBuilder, String),
            }
        }
        Ok(())
    }

    /// The rows added so far as a batch; the batcher starts over.
    pub(crate) fn finish(&mut self) -> Result<RecordBatch, IoError> {
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(|b| b.finish()).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| IoError::Data(e.to_string()))?;
        Ok(batch)
    }
}
