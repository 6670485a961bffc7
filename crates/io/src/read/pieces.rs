//! A CSV byte stream cut into pieces that each end on a record boundary, so the pieces can be
//! decoded side by side, each with a decoder of its own.
//!
//! A piece with no quote character in it ends after its last line feed: with no quoted field,
//! every line feed ends a record. A piece with quotes (where a line feed may sit inside a
//! field) is walked with csv-core, the state machine the decoders use themselves, so a cut
//! never falls inside a quoted field.

use std::io::{self, Read};

/// Bytes read for one piece before looking for its last record end.
pub(crate) const PIECE_BYTES: usize = 4 << 20;
/// Bytes read without finding the end of a record before the read is refused.
pub(crate) const MAX_RECORD: usize = 1 << 30;

/// Why no further piece could be cut.
#[derive(Debug)]
pub(crate) enum Cut {
    /// Reading the input failed.
    Io(io::Error),
    /// More than [`MAX_RECORD`] bytes held no record end.
    Unterminated,
}

/// Pieces of a CSV stream, in order; together they are the stream, byte for byte.
pub(crate) struct Pieces<R> {
    input: R,
    delimiter: u8,
    piece: usize,
    /// Bytes read past the end of the last piece handed out.
    carry: Vec<u8>,
    ended: bool,
}

impl<R: Read> Pieces<R> {
    /// Pieces of about `piece` bytes of `input` (whose first byte starts a record).
    pub(crate) fn new(input: R, delimiter: u8, piece: usize) -> Self {
        Pieces {
            input,
            delimiter,
            piece: piece.max(1),
            carry: Vec::new(),
            ended: false,
        }
    }

    /// The next piece; `None` after the last.
    pub(crate) fn next_piece(&mut self) -> Result<Option<Vec<u8>>, Cut> {
        let mut buf = std::mem::take(&mut self.carry);
        let mut want = self.piece;
        loop {
            if !self.ended {
                self.fill(&mut buf, want).map_err(Cut::Io)?;
            }
            if self.ended {
                return Ok((!buf.is_empty()).then_some(buf));
            }
            if let Some(end) = last_record_end(&buf, self.delimiter) {
                self.carry = buf.split_off(end);
                return Ok(Some(buf));
            }
            if buf.len() >= MAX_RECORD {
                return Err(Cut::Unterminated);
            }
            // One record is longer than a piece: read on until it ends.
            want = buf.len() * 2;
        }
    }

    /// Read until `buf` holds `want` bytes or the input ends.
    fn fill(&mut self, buf: &mut Vec<u8>, want: usize) -> io::Result<()> {
        if buf.len() >= want {
            return Ok(());
        }
        let missing = (want - buf.len()) as u64;
        let got = (&mut self.input).take(missing).read_to_end(buf)?;
        if (got as u64) < missing {
            self.ended = true;
        }
        Ok(())
    }
}

/// Where the last complete record of `bytes` (which begin at a record start) ends.
fn last_record_end(bytes: &[u8], delimiter: u8) -> Option<usize> {
    if memchr::memchr(b'"', bytes).is_none() {
        if let Some(i) = memchr::memrchr(b'\n', bytes) {
            return Some(i + 1);
        }
    }
    let mut reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let mut field = vec![0u8; 1 << 16];
    let mut at = 0;
    let mut last = None;
    loop {
        let (result, read, _) = reader.read_field(&bytes[at..], &mut field);
        at += read;
        match result {
            csv_core::ReadFieldResult::Field { record_end: true } => last = Some(at),
            csv_core::ReadFieldResult::Field { .. } | csv_core::ReadFieldResult::OutputFull => {}
            csv_core::ReadFieldResult::InputEmpty | csv_core::ReadFieldResult::End => break,
        }
    }
    // A record that ends exactly at the end of `bytes` may go on in the next read (`\r` then
    // `\n`): only a record end followed by more bytes is certain.
    last.filter(|&end| end < bytes.len() || bytes.last() == Some(&b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str, piece: usize) -> Vec<String> {
        let mut p = Pieces::new(text.as_bytes(), b',', piece);
        let mut out = Vec::new();
        while let Some(b) = p.next_piece().expect("cut") {
            out.push(String::from_utf8(b).expect("utf8"));
        }
        assert_eq!(out.concat(), text, "pieces put back together are the input");
        out
    }

    #[test]
    fn plain_lines_cut_after_a_line_feed() {
        let pieces = cut("a,b\n1,2\n3,4\n5,6\n", 9);
        assert_eq!(pieces, ["a,b\n1,2\n", "3,4\n5,6\n"]);
    }

    #[test]
    fn a_quoted_line_feed_is_never_a_cut() {
        let text = "a,b\n1,\"x\ny\nz\"\n2,\"q\"\"\n\"\n3,4\n";
        for piece in 1..text.len() + 2 {
            for p in cut(text, piece) {
                let quotes = p.bytes().filter(|&b| b == b'"').count();
                assert_eq!(
                    quotes % 2,
                    0,
                    "piece {p:?} of size {piece} cuts a quoted field"
                );
            }
        }
    }

    #[test]
    fn a_record_longer_than_a_piece_stays_whole() {
        let long = "x".repeat(100);
        let text = format!("a\n{long}\nb\n");
        let pieces = cut(&text, 4);
        assert!(
            pieces
                .iter()
                .any(|p| p.contains(&format!("\n{long}\n")) || p.starts_with(&format!("{long}\n"))),
            "{pieces:?}"
        );
        assert!(pieces.iter().all(|p| p.ends_with('\n')), "{pieces:?}");
    }

    #[test]
    fn carriage_returns_alone_end_records() {
        let pieces = cut("a,b\r1,2\r3,4\r", 5);
        assert!(pieces.len() > 1, "{pieces:?}");
        assert!(pieces[..pieces.len() - 1].iter().all(|p| p.ends_with('\r')));
    }

    #[test]
    fn an_unterminated_last_record_is_the_last_piece() {
        assert_eq!(cut("a\n1\n2", 3), ["a\n", "1\n", "2"]);
        assert_eq!(cut("a\n1\n2", 5), ["a\n1\n", "2"]);
    }
}
