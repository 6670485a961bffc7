//! Arrow IPC from outside the host (a guest's `from-ipc`, an `.arrow` file a block reads) is
//! looked at before it is decoded: a record batch with a compressed body carries its own
//! decompressed size, which Arrow's decoder allocates as it is told — an abort of the whole
//! process for a size no allocator can serve. weft never writes compressed IPC, so such
//! messages are refused.

use arrow::ipc::{root_as_footer, root_as_message, Message};

use crate::error::DataError;

const CONTINUATION: u32 = 0xFFFF_FFFF;

fn refuse() -> DataError {
    DataError::MalformedIpc(
        "compressed IPC record batches are not accepted; write Arrow IPC without compression"
            .into(),
    )
}

/// Check one message's metadata (the flatbuffer, without its length prefix).
fn check(meta: &[u8]) -> Result<Option<Message<'_>>, DataError> {
    let Ok(message) = root_as_message(meta) else {
        // Not a message the decoder will accept either; it reports the error itself.
        return Ok(None);
    };
    let compressed = message
        .header_as_record_batch()
        .is_some_and(|b| b.compression().is_some())
        || message
            .header_as_dictionary_batch()
            .and_then(|d| d.data())
            .is_some_and(|b| b.compression().is_some());
    if compressed {
        return Err(refuse());
    }
    Ok(Some(message))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at.checked_add(4)?)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The message framed at `at` (continuation marker and length, or a bare length):
/// its metadata and where its body begins.
fn framed(bytes: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let first = u32_at(bytes, at)?;
    let (len, start) = if first == CONTINUATION {
        (u32_at(bytes, at + 4)?, at + 8)
    } else {
        (first, at + 4)
    };
    let end = start.checked_add(len as usize)?;
    Some((bytes.get(start..end)?, end))
}

/// Refuse compressed batches in an IPC stream.
///
/// # Errors
/// [`DataError::MalformedIpc`] naming why.
pub(crate) fn check_stream(bytes: &[u8]) -> Result<(), DataError> {
    let mut at = 0usize;
    while let Some((meta, body)) = framed(bytes, at) {
        if meta.is_empty() {
            break;
        }
        let Some(message) = check(meta)? else { break };
        let Ok(len) = usize::try_from(message.bodyLength()) else {
            break;
        };
        match body.checked_add(len) {
            Some(next) if next <= bytes.len() => at = next,
            _ => break,
        }
    }
    Ok(())
}

/// Refuse compressed batches in an IPC file: every block its footer lists.
///
/// # Errors
/// [`DataError::MalformedIpc`] naming why.
pub(crate) fn check_file(bytes: &[u8]) -> Result<(), DataError> {
    let n = bytes.len();
    if n < 10 || &bytes[n - 6..] != b"ARROW1" {
        return Ok(());
    }
    let Some(footer_len) = u32_at(bytes, n - 10) else {
        return Ok(());
    };
    let Some(start) = (n - 10).checked_sub(footer_len as usize) else {
        return Ok(());
    };
    let Ok(footer) = root_as_footer(&bytes[start..n - 10]) else {
        return Ok(());
    };
    let blocks = footer
        .recordBatches()
        .into_iter()
        .flatten()
        .chain(footer.dictionaries().into_iter().flatten());
    for block in blocks {
        let Ok(at) = usize::try_from(block.offset()) else {
            continue;
        };
        if let Some((meta, _)) = framed(bytes, at) {
            check(meta)?;
        }
    }
    // Messages between the magic and the footer, in stream order, too.
    check_stream(bytes.get(8..start).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int32Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::ipc::writer::{FileWriter, IpcWriteOptions, StreamWriter};
    use arrow::ipc::CompressionType;

    use crate::Table;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int32Array::from(vec![1, 2, 3]))]).unwrap()
    }

    #[test]
    fn compressed_streams_and_files_are_refused_plain_ones_read() {
        let b = batch();
        let zstd = IpcWriteOptions::default()
            .try_with_compression(Some(CompressionType::ZSTD))
            .unwrap();
        let mut stream = Vec::new();
        {
            let mut w =
                StreamWriter::try_new_with_options(&mut stream, &b.schema(), zstd.clone()).unwrap();
            w.write(&b).unwrap();
            w.finish().unwrap();
        }
        let e = Table::from_ipc(stream).unwrap_err().to_string();
        assert!(e.contains("compressed IPC"), "{e}");
        let mut file = Vec::new();
        {
            let mut w = FileWriter::try_new_with_options(&mut file, &b.schema(), zstd).unwrap();
            w.write(&b).unwrap();
            w.finish().unwrap();
        }
        let e = Table::from_ipc_file(file).unwrap_err().to_string();
        assert!(e.contains("compressed IPC"), "{e}");
        let plain = Table::from_batch(b);
        assert_eq!(
            Table::from_ipc(plain.to_ipc(None).unwrap())
                .unwrap()
                .num_rows(),
            3
        );
        assert_eq!(
            Table::from_ipc_file(plain.to_ipc_file().unwrap())
                .unwrap()
                .num_rows(),
            3
        );
    }
}
