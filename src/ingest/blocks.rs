//! A file's decompressed stream read block by block: each block filled to a fixed size,
//! framed into whole records (the unframed rest starts the next block), its lines
//! counted.

use super::frame::{Framer, Span};
use std::io::Read;

/// Block size streamed through the framer.
const BLOCK: usize = 8 * 1024 * 1024;

/// Least read added to a block: a block whose unframed rest leaves less room than this
/// holds one record of megabytes, and its buffer is doubled instead (see [`want`]).
const MIN_READ: usize = BLOCK / 4;

/// How much to read after a rest of `rest` bytes: up to a block in all, so that a
/// buffer of a block's capacity is never grown (reading a block past the rest had
/// every buffer reallocate to twice the size on its second block). A rest that leaves
/// less than [`MIN_READ`] is one unfinished record: as much again is read, so that a
/// record of any size is framed after a number of reads logarithmic in its size, where
/// fixed steps rescanned it once per step.
///
/// Never past [`MAX_RECORD`], so that a longer record is seen as such.
fn want(rest: usize) -> usize {
    let w = if rest + MIN_READ <= BLOCK {
        BLOCK - rest
    } else {
        rest
    };
    match MAX_RECORD.saturating_sub(rest) {
        0 => w,
        room => w.min(room),
    }
}

/// A framed block: its bytes, the records in them, and where it sits in the stream.
pub(super) struct Framed {
    pub(super) buf: Vec<u8>,
    pub(super) spans: Vec<Span>,
    /// Bytes the block's records take; the rest starts the next block.
    pub(super) used: usize,
    /// Offset of the block in the (decompressed) stream.
    pub(super) base: u64,
    /// Start of the file's header row when this block holds it.
    pub(super) header_span: Option<usize>,
    /// Whether this is the last block.
    pub(super) eof: bool,
    /// A record longer than [`MAX_RECORD`] that was skipped, not read: its first line and
    /// the bytes skipped to the end of the line it ends on.
    pub(super) oversize: Option<(u64, u64)>,
}

/// Longest record read. A longer one (a gzip bomb of one endless line, a file with no
/// line ends) is skipped to the end of a line past this size and rejected: buffering it
/// took five times its size in memory, 10 GB for a 2 GB line.
pub(super) const MAX_RECORD: usize = 64 << 20;

/// Reading and framing one file's stream, block by block, counting its lines.
pub(super) struct Reading {
    pub(super) reader: Box<dyn Read + Send>,
    pub(super) framer: Framer,
    pub(super) eof: bool,
    pub(super) io_error: Option<String>,
    pub(super) lines: u64,
    pub(super) last_byte_nl: bool,
    /// A header row is still to come (CSV formats read without an envelope).
    pub(super) header: bool,
    /// Broken lines before the header row (the format was detected past them): records
    /// of their own, rejected as the parser finds them.
    pub(super) lead: usize,
}

impl Reading {
    /// Fills `buf` (which starts with the previous block's unframed rest) up to a block
    /// (see [`want`]) and frames it.
    pub(super) fn next(&mut self, mut buf: Vec<u8>, base: u64) -> Framed {
        if !self.eof {
            let want = want(buf.len());
            fill(
                &mut self.reader,
                &mut buf,
                want,
                &mut self.eof,
                &mut self.io_error,
            );
        }
        let (spans, used) = self.framer.split(&buf, self.eof);
        if spans.is_empty() && used == 0 && !self.eof && buf.len() >= MAX_RECORD {
            return self.skip(buf, base);
        }
        self.lines += memchr::memchr_iter(b'\n', &buf[..used]).count() as u64;
        if used > 0 {
            self.last_byte_nl = buf[used - 1] == b'\n';
        }
        let header_span = match spans.get(self.lead) {
            Some(sp) if self.header => {
                self.header = false;
                Some(sp.start)
            }
            _ => None,
        };
        Framed {
            buf,
            spans,
            used,
            base,
            header_span,
            eof: self.eof,
            oversize: None,
        }
    }

    /// Skips an unfinished record of [`MAX_RECORD`] bytes or more (all of `buf`) and
    /// what follows it to the end of a line, block by block without keeping it; the
    /// next block starts after that line end.
    fn skip(&mut self, mut buf: Vec<u8>, base: u64) -> Framed {
        let line = self.framer.next_line;
        self.header = false;
        // The record so far, line ends and all (a multi-line record's), then blocks up
        // to the first line end.
        let mut nl = memchr::memchr_iter(b'\n', &buf).count() as u64;
        let mut skipped = buf.len() as u64;
        buf.clear();
        self.last_byte_nl = false;
        while !self.eof {
            fill(
                &mut self.reader,
                &mut buf,
                BLOCK,
                &mut self.eof,
                &mut self.io_error,
            );
            if let Some(i) = memchr::memchr(b'\n', &buf) {
                nl += 1;
                skipped += i as u64 + 1;
                buf.drain(..=i);
                self.last_byte_nl = true;
                break;
            }
            skipped += buf.len() as u64;
            buf.clear();
        }
        self.lines += nl;
        self.framer.next_line += nl;
        Framed {
            buf,
            spans: Vec::new(),
            used: 0,
            base: base + skipped,
            header_span: None,
            eof: false,
            oversize: Some((line, skipped)),
        }
    }
}

/// Reads up to `want` more bytes into `buf`; a short read sets `eof`, an error sets
/// `err` and `eof`.
pub(super) fn fill(
    r: &mut dyn Read,
    buf: &mut Vec<u8>,
    want: usize,
    eof: &mut bool,
    err: &mut Option<String>,
) {
    // Reads straight into the block buffer (no bounce buffer); a short read means EOF.
    buf.reserve(want);
    match r.take(want as u64).read_to_end(buf) {
        Ok(n) if n < want => *eof = true,
        Ok(_) => {}
        Err(e) => {
            *err = Some(e.to_string());
            *eof = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_filled_to_its_size_and_a_long_record_doubles() {
        assert_eq!(want(0), BLOCK);
        assert_eq!(want(1000), BLOCK - 1000);
        assert_eq!(want(BLOCK - MIN_READ), MIN_READ);
        // One record nearly fills the block, or is longer than it: read as much again.
        assert_eq!(want(BLOCK - MIN_READ + 1), BLOCK - MIN_READ + 1);
        assert_eq!(want(3 * BLOCK), 3 * BLOCK);
    }
}
