//! Evidence inputs (listed from the arguments by `walk`): opens files read-only (or
//! stdin), undoes gzip, bzip2, xz, zstd and lz4 (concatenated members too), transcodes
//! UTF-16 to UTF-8, and hashes the bytes from disk with SHA-256 while they are read —
//! one pass, no second read.

use super::archive::{self, Member};
pub use super::decode::{utf16, Compression};
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One evidence input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file path.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// A path that could not be used, with the reason.
    Bad(String, String),
    /// What a directory walk or an archive listing found and did not read, with the
    /// reason: a roster, an answer key, a README, a hidden file, a link, a named pipe.
    NotEvidence(PathBuf, String),
    /// A file inside a zip or tar archive.
    Member(Box<Member>),
    /// An archive as received, listed with its SHA-256 before its members: what it is, and
    /// what stopped its listing.
    Archive(PathBuf, String, Option<String>),
}

impl Input {
    /// Display name.
    pub fn display(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".to_string(),
            Input::Bad(p, _) => p.clone(),
            Input::NotEvidence(p, _) => p.display().to_string(),
            Input::Member(m) => m.display(),
            Input::Archive(p, ..) => p.display().to_string(),
        }
    }
    /// Size on disk, when known.
    pub fn size(&self) -> u64 {
        match self {
            Input::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            Input::Member(m) => m.size,
            _ => 0,
        }
    }
}

/// Running hash of the raw bytes.
#[derive(Debug, Default)]
pub struct HashState {
    /// SHA-256 so far.
    pub sha: Sha256,
    /// Bytes so far.
    pub bytes: u64,
}

/// A reader that hashes and counts what passes through and advances a progress bar.
pub struct HashRead<R> {
    inner: R,
    state: Arc<Mutex<HashState>>,
    pb: ProgressBar,
}

impl<R: Read> Read for HashRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            s.sha.update(&buf[..n]);
            s.bytes += n as u64;
            self.pb.inc(n as u64);
        }
        Ok(n)
    }
}

/// A stream whose first read failed: the error once, then the end.
struct Failed(Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        self.0.take().map_or(Ok(0), Err)
    }
}

/// An opened input: the decompressed, UTF-8 stream and the hash of the raw bytes.
pub struct Opened {
    /// Decompressed bytes.
    pub reader: Box<dyn Read + Send>,
    /// Hash of raw bytes read so far.
    pub state: Arc<Mutex<HashState>>,
    /// The compression undone, if any.
    pub compression: Option<Compression>,
    /// The encoding transcoded to UTF-8, if not UTF-8.
    pub encoding: Option<&'static str>,
}

/// Opens an input read-only. A compression is recognized by its magic bytes, not the
/// name, and undone; UTF-16 text is transcoded to UTF-8.
pub fn open(input: &Input, pb: &ProgressBar) -> io::Result<Opened> {
    let state = Arc::new(Mutex::new(HashState::default()));
    let raw: Box<dyn Read + Send> = match input {
        Input::File(p) => Box::new(File::open(p)?),
        Input::Member(m) => archive::open(m)?,
        Input::Stdin => Box::new(io::stdin()),
        Input::Bad(_, why) => return Err(io::Error::other(why.clone())),
        Input::NotEvidence(..) | Input::Archive(..) => {
            return Err(io::Error::other("not evidence"))
        }
    };
    let mut br = BufReader::with_capacity(
        1 << 20,
        HashRead {
            inner: raw,
            state: state.clone(),
            pb: pb.clone(),
        },
    );
    let compression = Compression::sniff(br.fill_buf()?);
    let mut text: Box<dyn BufRead + Send> = match compression {
        Some(c) => Box::new(BufReader::with_capacity(1 << 20, c.decoder(br)?)),
        None => Box::new(br),
    };
    // A decoder's first read can fail (a corrupt header, a file cut inside its first
    // block); the error is handed to the parsing side, which reports it with the file.
    let (enc, reader): (_, Box<dyn Read + Send>) = match text.fill_buf() {
        Err(e) => (None, Box::new(Failed(Some(e)))),
        Ok(head) => match utf16(head) {
            Some(e) => (
                Some(e),
                Box::new(
                    encoding_rs_io::DecodeReaderBytesBuilder::new()
                        .encoding(Some(e))
                        .build(text),
                ),
            ),
            None => (None, text),
        },
    };
    Ok(Opened {
        reader: Box::new(ReadAhead::new(reader)),
        state,
        compression,
        encoding: enc.map(|e| e.name()),
    })
}

/// Finishes the hash of a file whose decoding stopped early (truncated gzip): the rest of
/// the raw bytes are hashed so the recorded SHA-256 is still the file's (or the member's).
pub fn finish_hash(input: &Input, state: &Arc<Mutex<HashState>>) -> String {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    let rest: Option<Box<dyn Read>> = match input {
        // Not a pipe: opening one again would wait for a writer that is gone.
        Input::File(p) if p.is_file() => File::open(p).ok().and_then(|mut f| {
            use std::io::{Seek, SeekFrom};
            f.seek(SeekFrom::Start(s.bytes)).ok()?;
            Some(Box::new(f) as Box<dyn Read>)
        }),
        Input::Member(m) => archive::open(m).ok().and_then(|mut r| {
            let skipped = io::copy(&mut r.by_ref().take(s.bytes), &mut io::sink()).ok()?;
            (skipped == s.bytes).then_some(Box::new(r) as Box<dyn Read>)
        }),
        _ => None,
    };
    if let Some(mut r) = rest {
        // What cannot be read is not hashed; the inventory names the read error.
        let _ = hash_rest(&mut r, &mut s);
    }
    let sha = std::mem::take(&mut s.sha);
    hex(&sha.finalize())
}

/// The archive or compression a stream's first bytes name that breachline does not read
/// there, and the command that undoes it: 7-Zip and compress (.Z) files, and archives
/// read from standard input or packed inside another archive.
pub fn other_compression(head: &[u8]) -> Option<(&'static str, &'static str)> {
    const MAGIC: &[(&[u8], &str, &str)] = &[
        (b"PK\x03\x04", "a zip archive", "unzip"),
        (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive", "7z x"),
        (b"\x1F\x9D", "compress (.Z) data", "uncompress"),
    ];
    if head.get(257..262) == Some(b"ustar") {
        return Some(("a tar archive", "tar -xf"));
    }
    MAGIC
        .iter()
        .find(|(m, ..)| head.starts_with(m))
        .map(|(_, kind, tool)| (*kind, *tool))
}

/// The SHA-256 and length of a file on disk, read once.
pub fn hash_file(p: &Path) -> io::Result<(String, u64)> {
    let mut s = HashState::default();
    hash_rest(&mut File::open(p)?, &mut s)?;
    Ok((hex(&s.sha.finalize()), s.bytes))
}

/// Hashes and counts a stream to its end.
fn hash_rest(r: &mut dyn Read, s: &mut HashState) -> io::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        s.sha.update(&buf[..n]);
        s.bytes += n as u64;
    }
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// Size of the chunks a [`ReadAhead`] thread reads.
const AHEAD: usize = 4 << 20;

/// Reads (and hashes, and decompresses) the next chunks of a stream on a thread of its
/// own while the caller parses the previous ones: the ingest reads a file's blocks in
/// turn, and its reading would otherwise leave the parsing threads idle. At most two
/// chunks wait. The thread ends at the end of the stream, on an error (handed on in
/// order), or when the reader is dropped.
///
/// Chunks go back to the thread once read and are filled again: a fresh chunk per 4 MB
/// was zeroed before each read and its pages faulted in by the kernel, once more for
/// every 4 MB of evidence (a quarter of `report`'s page faults at 1.1 GB).
struct ReadAhead {
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    /// Read chunks, back to the thread.
    back: std::sync::mpsc::Sender<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
    done: bool,
}

/// Size of a stream's first chunk; each full one makes the next four times larger, up to
/// [`AHEAD`]: a file of a few kilobytes (a CloudWatch export holds thousands) is not
/// read into 4 MB zeroed for it.
const FIRST: usize = 64 << 10;

/// Fills `chunk` (resized to `want`) from `r`, up to its end or the stream's, and cuts
/// it to what was read. What was read before an error is kept in `chunk`.
fn fill_chunk(r: &mut dyn Read, chunk: &mut Vec<u8>, want: usize) -> io::Result<()> {
    // Zeroes only what a shorter last fill left out; a recycled full chunk as it is.
    chunk.resize(want, 0);
    let mut n = 0;
    let mut res = Ok(());
    while n < want {
        match r.read(&mut chunk[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                res = Err(e);
                break;
            }
        }
    }
    chunk.truncate(n);
    res
}

impl ReadAhead {
    fn new(mut inner: Box<dyn Read + Send>) -> ReadAhead {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let (back, returned) = std::sync::mpsc::channel::<Vec<u8>>();
        let mut want = FIRST;
        std::thread::spawn(move || loop {
            let mut chunk = returned.try_recv().unwrap_or_default();
            match fill_chunk(&mut inner, &mut chunk, want) {
                Ok(()) if chunk.is_empty() => break,
                Ok(()) => {
                    if chunk.len() == want {
                        want = (want * 4).min(AHEAD);
                    }
                    if tx.send(Ok(chunk)).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    // What was read before the error is evidence too.
                    if !chunk.is_empty() && tx.send(Ok(chunk)).is_err() {
                        break;
                    }
                    let _ = tx.send(Err(e));
                    break;
                }
            }
        });
        ReadAhead {
            rx,
            back,
            cur: Vec::new(),
            pos: 0,
            done: false,
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.cur.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    let read = std::mem::replace(&mut self.cur, chunk);
                    // The thread has ended when this fails: the chunk is freed.
                    let _ = self.back.send(read);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.cur.len() - self.pos);
        out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out `data` in pieces of odd sizes, interrupted now and then, and fails
    /// once it is all given when `fail` is set.
    struct Pieces {
        data: Vec<u8>,
        at: usize,
        calls: usize,
        fail: bool,
    }

    impl Pieces {
        fn new(data: &[u8], fail: bool) -> Box<Pieces> {
            Box::new(Pieces {
                data: data.to_vec(),
                at: 0,
                calls: 0,
                fail,
            })
        }
    }

    impl Read for Pieces {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls % 7 == 0 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            if self.at == self.data.len() {
                return match self.fail {
                    true => Err(io::Error::other("disk gone")),
                    false => Ok(0),
                };
            }
            let n = out.len().min(self.data.len() - self.at).min(333_331);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn bytes(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 4099) as u8).collect()
    }

    #[test]
    fn read_ahead_gives_the_stream_in_order_through_recycled_chunks() {
        // Several chunks and a short last one: chunks come back to the thread and are
        // filled again.
        let data = bytes(3 * AHEAD + AHEAD / 3 + 17);
        let mut got = Vec::new();
        let mut r = ReadAhead::new(Pieces::new(&data, false));
        let mut buf = vec![0u8; 1_000_003];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert!(got == data, "{} bytes read of {}", got.len(), data.len());
    }

    #[test]
    fn read_ahead_hands_on_what_was_read_before_an_error_then_the_error() {
        let data = bytes(AHEAD + 5);
        let mut r = ReadAhead::new(Pieces::new(&data, true));
        let mut got = Vec::new();
        let err = loop {
            let mut buf = vec![0u8; 65_536];
            match r.read(&mut buf) {
                Ok(0) => panic!("end of stream instead of the error"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert!(got == data, "{} bytes read of {}", got.len(), data.len());
        assert_eq!(err.to_string(), "disk gone");
        assert_eq!(r.read(&mut [0u8; 8]).unwrap(), 0);
    }
}
