//! Arrow → Postgres: column types for `CREATE TABLE` and the binary `COPY` encoding of rows.

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, LargeBinaryArray, LargeStringArray,
    PrimitiveArray, RecordBatch, StringArray, StringViewArray,
};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type,
    Int64Type, Time64MicrosecondType, TimeUnit, TimestampMicrosecondType,
};

use crate::error::IoError;

/// The signature, flags and header extension that open a binary COPY stream.
pub(crate) const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The end-of-data marker.
pub(crate) const TRAILER: &[u8] = &[0xff, 0xff];

/// Days from 1970-01-01 to 2000-01-01, Postgres' epoch.
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// The Postgres column type for an Arrow type, and the Arrow type values are cast to first.
pub(crate) fn pg_type(column: &str, t: &DataType) -> Result<(&'static str, DataType), IoError> {
    use DataType::*;
    Ok(match t {
        Boolean => ("boolean", Boolean),
        Int8 | Int16 | UInt8 => ("smallint", Int16),
        Int32 | UInt16 => ("integer", Int32),
        Int64 | UInt32 => ("bigint", Int64),
        Float16 | Float32 => ("real", Float32),
        // Exact: unconstrained numeric keeps every digit and the scale.
        Decimal32(p, s) | Decimal64(p, s) | Decimal128(p, s) => ("numeric", Decimal128(*p, *s)),
        Float64 | Decimal256(..) => ("double precision", Float64),
        Utf8 | LargeUtf8 | Utf8View => ("text", t.clone()),
        Binary | LargeBinary => ("bytea", t.clone()),
        Date32 | Date64 => ("date", Date32),
        Timestamp(_, None) => ("timestamp", Timestamp(TimeUnit::Microsecond, None)),
        Timestamp(_, Some(_)) => (
            "timestamptz",
            Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        ),
        Time32(_) | Time64(_) => ("time", Time64(TimeUnit::Microsecond)),
        Dictionary(_, value) => pg_type(column, value)?,
        other => {
            return Err(IoError::Data(format!(
                "column `{column}` has type {other}, which weft cannot load into Postgres; cast it to a scalar type first"
            )))
        }
    })
}

/// Append the rows of `batch` (already cast to the types [`pg_type`] chose) to `out`.
///
/// Each column is looked at once per batch ([`Column`]); the rows are then written field by
/// field without further dispatch on types.
pub(crate) fn encode(batch: &RecordBatch, out: &mut Vec<u8>) -> Result<(), IoError> {
    let ncols = i16::try_from(batch.num_columns())
        .map_err(|_| IoError::Data("too many columns for Postgres".into()))?;
    let columns = batch
        .columns()
        .iter()
        .enumerate()
        .map(|(c, col)| {
            Column::of(col).map_err(|reason| {
                IoError::Data(format!(
                    "column `{}`: {reason}",
                    batch.schema().field(c).name()
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for row in 0..batch.num_rows() {
        out.extend_from_slice(&ncols.to_be_bytes());
        for (c, col) in columns.iter().enumerate() {
            col.write(row, out).map_err(|reason| {
                IoError::Data(format!(
                    "column `{}`, row {row}: {reason}",
                    batch.schema().field(c).name()
                ))
            })?;
        }
    }
    Ok(())
}

/// One column, its type resolved once.
enum Column<'a> {
    Bool(&'a BooleanArray),
    I16(&'a PrimitiveArray<Int16Type>),
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    F32(&'a PrimitiveArray<Float32Type>),
    F64(&'a PrimitiveArray<Float64Type>),
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
    Binary(&'a BinaryArray),
    LargeBinary(&'a LargeBinaryArray),
    Decimal(&'a PrimitiveArray<Decimal128Type>, i8),
    Date(&'a PrimitiveArray<Date32Type>),
    Timestamp(&'a PrimitiveArray<TimestampMicrosecondType>),
    Time(&'a PrimitiveArray<Time64MicrosecondType>),
}

impl<'a> Column<'a> {
    fn of(col: &'a ArrayRef) -> Result<Column<'a>, String> {
        use DataType::*;
        let any = col.as_any();
        let down = |ok: Option<Column<'a>>| {
            ok.ok_or_else(|| format!("unexpected array for {}", col.data_type()))
        };
        match col.data_type() {
            Boolean => down(any.downcast_ref().map(Column::Bool)),
            Int16 => Ok(Column::I16(col.as_primitive())),
            Int32 => Ok(Column::I32(col.as_primitive())),
            Int64 => Ok(Column::I64(col.as_primitive())),
            Float32 => Ok(Column::F32(col.as_primitive())),
            Float64 => Ok(Column::F64(col.as_primitive())),
            Utf8 => down(any.downcast_ref().map(Column::Utf8)),
            LargeUtf8 => down(any.downcast_ref().map(Column::LargeUtf8)),
            Utf8View => down(any.downcast_ref().map(Column::Utf8View)),
            Binary => down(any.downcast_ref().map(Column::Binary)),
            LargeBinary => down(any.downcast_ref().map(Column::LargeBinary)),
            Decimal128(_, scale) => Ok(Column::Decimal(col.as_primitive(), *scale)),
            Date32 => Ok(Column::Date(col.as_primitive())),
            Timestamp(TimeUnit::Microsecond, _) => Ok(Column::Timestamp(col.as_primitive())),
            Time64(TimeUnit::Microsecond) => Ok(Column::Time(col.as_primitive())),
            other => Err(format!("unexpected type {other} after casting")),
        }
    }

    fn array(&self) -> &dyn Array {
        match self {
            Column::Bool(a) => *a,
            Column::I16(a) => *a,
            Column::I32(a) => *a,
            Column::I64(a) => *a,
            Column::F32(a) => *a,
            Column::F64(a) => *a,
            Column::Utf8(a) => *a,
            Column::LargeUtf8(a) => *a,
            Column::Utf8View(a) => *a,
            Column::Binary(a) => *a,
            Column::LargeBinary(a) => *a,
            Column::Decimal(a, _) => *a,
            Column::Date(a) => *a,
            Column::Timestamp(a) => *a,
            Column::Time(a) => *a,
        }
    }

    /// Write the field of `row`: its length, then its bytes (`-1` and nothing for a null).
    fn write(&self, row: usize, out: &mut Vec<u8>) -> Result<(), String> {
        if self.array().is_null(row) {
            out.extend_from_slice(&(-1i32).to_be_bytes());
            return Ok(());
        }
        match self {
            Column::Bool(a) => field(out, &[u8::from(a.value(row))]),
            Column::I16(a) => fixed(out, a.value(row).to_be_bytes()),
            Column::I32(a) => fixed(out, a.value(row).to_be_bytes()),
            Column::I64(a) => fixed(out, a.value(row).to_be_bytes()),
            Column::F32(a) => fixed(out, a.value(row).to_be_bytes()),
            Column::F64(a) => fixed(out, a.value(row).to_be_bytes()),
            Column::Utf8(a) => text(out, a.value(row))?,
            Column::LargeUtf8(a) => text(out, a.value(row))?,
            Column::Utf8View(a) => text(out, a.value(row))?,
            Column::Binary(a) => field(out, a.value(row)),
            Column::LargeBinary(a) => field(out, a.value(row)),
            Column::Decimal(a, scale) => field(out, &numeric(a.value(row), *scale)),
            Column::Date(a) => fixed(out, (a.value(row) - PG_EPOCH_DAYS).to_be_bytes()),
            Column::Timestamp(a) => fixed(out, (a.value(row) - PG_EPOCH_MICROS).to_be_bytes()),
            Column::Time(a) => fixed(out, a.value(row).to_be_bytes()),
        }
        Ok(())
    }
}

fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A fixed-size value with its length, in one write.
fn fixed<const N: usize>(out: &mut Vec<u8>, bytes: [u8; N]) {
    let mut buf = [0u8; 12];
    buf[..4].copy_from_slice(&(N as i32).to_be_bytes());
    buf[4..4 + N].copy_from_slice(&bytes);
    out.extend_from_slice(&buf[..4 + N]);
}

/// The binary form of Postgres `numeric` for `unscaled × 10^-scale`: digit count, weight
/// (of the first base-10000 digit), sign, display scale, then the base-10000 digits.
fn numeric(unscaled: i128, scale: i8) -> Vec<u8> {
    let negative = unscaled < 0;
    let mut digits = unscaled.unsigned_abs().to_string();
    let dscale = scale.max(0) as usize;
    if scale < 0 {
        digits.push_str(&"0".repeat(scale.unsigned_abs() as usize));
    }
    if digits.len() <= dscale {
        digits = format!("{}{digits}", "0".repeat(dscale + 1 - digits.len()));
    }
    let (int, frac) = digits.split_at(digits.len() - dscale);
    // Integer digits grouped by four from the point leftwards, fraction digits rightwards.
    let int = format!("{}{int}", "0".repeat((4 - int.len() % 4) % 4));
    let frac = format!("{frac}{}", "0".repeat((4 - frac.len() % 4) % 4));
    let group = |s: &str| -> Vec<i16> {
        s.as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or("0").parse().unwrap_or(0))
            .collect()
    };
    let mut groups = group(&int);
    let mut weight = groups.len() as i16 - 1;
    groups.extend(group(&frac));
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    let sign: u16 = if negative && !groups.is_empty() {
        0x4000
    } else {
        0
    };
    let mut out = Vec::with_capacity(8 + 2 * groups.len());
    out.extend_from_slice(&(groups.len() as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&(dscale as u16).to_be_bytes());
    for g in groups {
        out.extend_from_slice(&g.to_be_bytes());
    }
    out
}

fn text(out: &mut Vec<u8>, v: &str) -> Result<(), String> {
    if memchr::memchr(0, v.as_bytes()).is_some() {
        return Err("text holds a NUL character (0x00), which Postgres text cannot store".into());
    }
    field(out, v.as_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{Date32Array, Int64Array, TimestampMicrosecondArray};
    use arrow::datatypes::{Field, Schema};

    #[test]
    fn decimals_encode_as_exact_numeric() {
        let words = |b: Vec<u8>| -> Vec<i32> {
            b.chunks(2)
                .enumerate()
                .map(|(i, c)| {
                    let v = [c[0], c[1]];
                    if i == 2 {
                        i32::from(u16::from_be_bytes(v))
                    } else {
                        i32::from(i16::from_be_bytes(v))
                    }
                })
                .collect()
        };
        // ndigits, weight, sign, dscale, digits...
        assert_eq!(words(numeric(0, 2)), [0, 0, 0, 2]);
        assert_eq!(words(numeric(12_345, 2)), [2, 0, 0, 2, 123, 4500]);
        assert_eq!(words(numeric(-1, 3)), [1, -1, 0x4000, 3, 10]);
        assert_eq!(words(numeric(1, -4)), [1, 1, 0, 0, 1]);
        // -123456789012.345678
        assert_eq!(
            words(numeric(-123_456_789_012_345_678, 6)),
            [5, 2, 0x4000, 6, 1234, 5678, 9012, 3456, 7800]
        );
    }

    #[test]
    fn rows_encode_in_postgres_binary_form() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
            Field::new("d", DataType::Date32, true),
            Field::new("t", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![Some(7), None])),
                Arc::new(StringArray::from(vec![Some("ab"), Some("")])),
                Arc::new(Date32Array::from(vec![Some(PG_EPOCH_DAYS + 1), None])),
                Arc::new(TimestampMicrosecondArray::from(vec![
                    Some(PG_EPOCH_MICROS),
                    None,
                ])),
            ],
        )
        .unwrap();
        let mut out = Vec::new();
        encode(&b, &mut out).unwrap();
        let mut want = Vec::new();
        want.extend_from_slice(&4i16.to_be_bytes());
        want.extend_from_slice(&8i32.to_be_bytes());
        want.extend_from_slice(&7i64.to_be_bytes());
        want.extend_from_slice(&2i32.to_be_bytes());
        want.extend_from_slice(b"ab");
        want.extend_from_slice(&4i32.to_be_bytes());
        want.extend_from_slice(&1i32.to_be_bytes());
        want.extend_from_slice(&8i32.to_be_bytes());
        want.extend_from_slice(&0i64.to_be_bytes());
        want.extend_from_slice(&4i16.to_be_bytes());
        want.extend_from_slice(&(-1i32).to_be_bytes());
        want.extend_from_slice(&0i32.to_be_bytes());
        want.extend_from_slice(&(-1i32).to_be_bytes());
        want.extend_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(out, want);
    }

    #[test]
    fn nul_bytes_in_text_are_refused_naming_the_column() {
        let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, true)]));
        let b =
            RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(vec!["a\0b"]))]).unwrap();
        let e = encode(&b, &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("column `s`, row 0") && e.contains("NUL"), "{e}");
    }
}
