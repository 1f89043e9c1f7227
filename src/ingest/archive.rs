//! Evidence inside archives: a zip or a tar (plain or compressed) is listed member by
//! member, and each member is read as an evidence file of its own, named
//! `ARCHIVE!/MEMBER`, hashed as the file it was before it was packed.

use super::decode::Compression;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The archive kinds read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A zip file.
    Zip,
    /// A tar stream, maybe compressed as a whole (`.tar.gz`, `.tgz`, `.tar.zst`, …).
    Tar(Option<Compression>),
}

/// One regular file inside an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The archive on disk.
    pub archive: PathBuf,
    /// The member's path inside it.
    pub name: String,
    /// The archive's kind.
    pub kind: Kind,
    /// Where its data starts: in the zip file, or in the tar's decompressed stream.
    pub offset: u64,
    /// Its stored length: compressed in a zip, as is in a tar.
    pub stored: u64,
    /// Its length once unpacked.
    pub size: u64,
    /// A zip member's compression method (0 stored, 8 deflate, …); 0 in a tar.
    pub method: u16,
    /// Year and month of its last change, from the archive's header.
    pub modified: Option<(i32, u32)>,
    /// A zip member's CRC-32, checked when it has been read.
    pub crc32: Option<u32>,
    /// A symbolic or hard link: what it points at (empty where the archive does not say
    /// plainly). It is listed, never read.
    pub link: Option<String>,
}

impl Member {
    /// `ARCHIVE!/MEMBER`, as files inside archives are usually named.
    pub fn display(&self) -> String {
        format!("{}!/{}", self.archive.display(), self.name)
    }

    /// The member's base name (zips made on Windows may separate with `\`).
    pub fn file_name(&self) -> &str {
        self.name.rsplit(['/', '\\']).next().unwrap_or(&self.name)
    }
}

/// What kind of archive a file is, from its first bytes: a zip by its local header, a tar
/// by the `ustar` magic of its first header once any compression is undone.
pub fn sniff(path: &Path) -> Option<Kind> {
    let mut head = Vec::with_capacity(512);
    File::open(path)
        .ok()?
        .take(512)
        .read_to_end(&mut head)
        .ok()?;
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(Kind::Zip);
    }
    let compression = Compression::sniff(&head);
    let mut r = unpacked(path, compression).ok()?;
    let mut block = Vec::with_capacity(512);
    r.by_ref().take(512).read_to_end(&mut block).ok()?;
    (block.len() == 512 && &block[257..262] == b"ustar").then_some(Kind::Tar(compression))
}

/// The regular files and links of an archive, and the error that stopped the listing: a tar cut
/// short still lists the members before the cut. A zip's members are sorted by name, as a
/// directory walk is; a tar's stay in archive order, in which they are read fastest.
pub fn list(path: &Path, kind: Kind) -> (Vec<Member>, Option<String>) {
    let mut found = Vec::new();
    let end = match kind {
        Kind::Zip => list_zip(path, &mut found),
        Kind::Tar(c) => list_tar(path, c, &mut found),
    };
    let mut recovered = None;
    if let (Kind::Zip, Err(e)) = (kind, &end) {
        // The directory is lost; the local headers may still name the members before it.
        found.clear();
        let after = match super::zip_local::list(path, &mut found) {
            Ok(()) => String::new(),
            Err(w) => format!("; then: {w}"),
        };
        recovered = (!found.is_empty()).then(|| {
            format!(
                "the zip archive's directory, at the end of the file, is missing or damaged \
                 (a file cut short?): {} members were found by their local headers ({e}{after})",
                found.len()
            )
        });
    }
    if kind == Kind::Zip {
        found.sort_by(|a, b| a.name.cmp(&b.name));
    }
    let why = end.err().map(|e| {
        let what = kind_name(kind);
        match (recovered, found.is_empty()) {
            (Some(why), _) => why,
            (None, false) => format!(
                "the {what} archive ends early or is corrupt after {} members: {e}",
                found.len()
            ),
            (None, true) if kind == Kind::Zip => format!(
                "cannot list the zip archive (its directory, at the end of the file, is \
                 missing or damaged; `zip -FF FILE --out FIXED.zip` recovers what it can): {e}"
            ),
            (None, true) => format!("cannot list the {what} archive: {e}"),
        }
    });
    (found, why)
}

/// `zip`, `tar`, `gzip-compressed tar`, ….
pub fn kind_name(kind: Kind) -> String {
    match kind {
        Kind::Zip => "zip".into(),
        Kind::Tar(None) => "tar".into(),
        Kind::Tar(Some(c)) => format!("{}-compressed tar", c.name()),
    }
}

fn list_zip(path: &Path, out: &mut Vec<Member>) -> io::Result<()> {
    let mut z =
        zip::ZipArchive::new(BufReader::new(File::open(path)?)).map_err(io::Error::other)?;
    for i in 0..z.len() {
        let mut f = z.by_index_raw(i).map_err(io::Error::other)?;
        let link = if f.is_symlink() {
            // The target is the member's data; read it where it is stored as is.
            let mut to = String::new();
            if f.compression() == zip::CompressionMethod::Stored {
                let _ = f.by_ref().take(4096).read_to_string(&mut to);
            }
            Some(to)
        } else if f.is_file() {
            None
        } else {
            continue;
        };
        #[allow(deprecated)] // the named methods exist only with zip's decoders enabled
        let method = f.compression().to_u16();
        out.push(Member {
            archive: path.to_path_buf(),
            name: f.name().to_string(),
            kind: Kind::Zip,
            offset: f.data_start(),
            stored: f.compressed_size(),
            size: f.size(),
            method: if f.encrypted() { u16::MAX } else { method },
            modified: f
                .last_modified()
                .map(|t| (i32::from(t.year()), u32::from(t.month()))),
            crc32: Some(f.crc32()),
            link,
        });
    }
    Ok(())
}

fn list_tar(path: &Path, c: Option<Compression>, out: &mut Vec<Member>) -> io::Result<()> {
    let mut a = tar::Archive::new(unpacked(path, c)?);
    for e in a.entries()? {
        let e = e?;
        let t = e.header().entry_type();
        let link = if t.is_symlink() || t.is_hard_link() {
            let to = e.link_name().ok().flatten();
            Some(to.map_or_else(String::new, |p| p.to_string_lossy().into_owned()))
        } else if t.is_file() {
            None
        } else {
            continue;
        };
        let modified = e.header().mtime().ok().and_then(|s| {
            use chrono::Datelike;
            let d = chrono::DateTime::from_timestamp(i64::try_from(s).ok()?, 0)?;
            Some((d.year(), d.month()))
        });
        out.push(Member {
            archive: path.to_path_buf(),
            name: e.path()?.to_string_lossy().into_owned(),
            kind: Kind::Tar(c),
            offset: e.raw_file_position(),
            stored: e.size(),
            size: e.size(),
            method: 0,
            modified,
            crc32: None,
            link,
        });
    }
    Ok(())
}

/// An archive file with its compression as a whole undone.
fn unpacked(path: &Path, c: Option<Compression>) -> io::Result<Box<dyn Read + Send>> {
    let f = BufReader::with_capacity(1 << 20, File::open(path)?);
    match c {
        Some(c) => c.decoder(f),
        None => Ok(Box::new(f)),
    }
}

/// Opens a member read-only: the bytes it held before it was packed. A member of a
/// compressed tar is reached by reading the archive up to it.
pub fn open(m: &Member) -> io::Result<Box<dyn Read + Send>> {
    match m.kind {
        Kind::Zip => {
            let mut f = File::open(&m.archive)?;
            f.seek(SeekFrom::Start(m.offset))?;
            let raw = BufReader::with_capacity(1 << 20, f.take(m.stored));
            Ok(Box::new(Checked {
                inner: zip_decoder(m.method, raw)?,
                crc: flate2::Crc::new(),
                want: m.crc32.unwrap_or_default(),
                size: m.size,
            }))
        }
        Kind::Tar(None) => {
            let mut f = File::open(&m.archive)?;
            f.seek(SeekFrom::Start(m.offset))?;
            let f = Box::new(BufReader::with_capacity(1 << 20, f));
            Ok(Box::new(Exact::new(f, m.size)))
        }
        Kind::Tar(c) => {
            let (pos, mut r) = match unpark(&m.archive, m.offset) {
                Some(p) => p,
                None => {
                    #[cfg(test)]
                    FRESH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    (0, unpacked(&m.archive, c)?)
                }
            };
            let gap = m.offset - pos;
            let skipped = io::copy(&mut r.by_ref().take(gap), &mut io::sink())?;
            if skipped < gap {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the archive ends before the member",
                ));
            }
            let mut member = Exact::new(r, m.size);
            member.park_at = Some((m.archive.clone(), m.offset + m.size));
            Ok(Box::new(member))
        }
    }
}

/// Decoders of compressed tars left where a member read from them ended: the next member
/// is reached by reading on, not by decompressing the archive again from its start, so a
/// tar.gz is decompressed about once instead of once per member.
static PARKED: std::sync::Mutex<Vec<Parked>> = std::sync::Mutex::new(Vec::new());

/// A parked decoder: its archive, its position in the decompressed stream, the stream.
type Parked = (PathBuf, u64, Box<dyn Read + Send>);

/// Compressed tars decompressed from their start, for the tests.
#[cfg(test)]
static FRESH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// At most this many decoders wait (each holds its buffers).
const PARKED_MAX: usize = 4;

/// The parked decoder of an archive nearest before `offset`, with its position.
fn unpark(archive: &Path, offset: u64) -> Option<(u64, Box<dyn Read + Send>)> {
    let mut parked = PARKED.lock().unwrap_or_else(|e| e.into_inner());
    let i = (0..parked.len())
        .filter(|&i| parked[i].0 == archive && parked[i].1 <= offset)
        .max_by_key(|&i| parked[i].1)?;
    let (_, pos, r) = parked.remove(i);
    Some((pos, r))
}

fn park(archive: PathBuf, pos: u64, r: Box<dyn Read + Send>) {
    let mut parked = PARKED.lock().unwrap_or_else(|e| e.into_inner());
    if parked.len() == PARKED_MAX {
        parked.remove(0);
    }
    parked.push((archive, pos, r));
}

/// The next `left` bytes of a stream, and an error if it ends before them: the last
/// member of a tar cut short claims more than the archive holds. A compressed tar's
/// decoder is parked at the member's end, where the next member is reached from.
struct Exact {
    inner: Option<Box<dyn Read + Send>>,
    left: u64,
    park_at: Option<(PathBuf, u64)>,
}

impl Exact {
    fn new(inner: Box<dyn Read + Send>, left: u64) -> Exact {
        Exact {
            inner: Some(inner),
            left,
            park_at: None,
        }
    }
}

impl Read for Exact {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(r) = self.inner.as_mut() else {
            return Ok(0);
        };
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = match r.read(&mut buf[..want]) {
            Ok(0) => {
                self.inner = None;
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the archive ends {} bytes before the member does",
                        self.left
                    ),
                ));
            }
            Ok(n) => n,
            Err(e) => {
                // A decoder that failed is not parked for the next member.
                self.inner = None;
                return Err(e);
            }
        };
        self.left -= n as u64;
        if self.left == 0 {
            self.park();
        }
        Ok(n)
    }
}

impl Exact {
    /// Parks a compressed tar's decoder where this member's reading stopped.
    fn park(&mut self) {
        if let (Some((archive, end)), Some(r)) = (self.park_at.take(), self.inner.take()) {
            park(archive, end - self.left, r);
        }
    }
}

impl Drop for Exact {
    /// A member read only in part (its first lines, to date a syslog file) still leaves
    /// its decoder for the members after it.
    fn drop(&mut self) {
        self.park();
    }
}

/// A zip member checked against its recorded length and CRC-32 when its end is read: a
/// member whose bytes are not the ones packed is reported, not read as if whole.
struct Checked {
    inner: Box<dyn Read + Send>,
    crc: flate2::Crc,
    want: u32,
    size: u64,
}

impl Read for Checked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.crc.update(&buf[..n]);
            return Ok(n);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let got = u64::from(self.crc.amount());
        if got != self.size & 0xFFFF_FFFF {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the member holds {got} bytes where its zip entry says {}",
                    self.size
                ),
            ));
        }
        if self.crc.sum() != self.want {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "CRC-32 {:08x} where its zip entry says {:08x}: the member is damaged",
                    self.crc.sum(),
                    self.want
                ),
            ));
        }
        Ok(0)
    }
}

/// The decoder of a zip compression method.
fn zip_decoder<R: BufRead + Send + 'static>(method: u16, r: R) -> io::Result<Box<dyn Read + Send>> {
    Ok(match method {
        0 => Box::new(r),
        8 => Box::new(flate2::bufread::DeflateDecoder::new(r)),
        12 => Box::new(bzip2::bufread::BzDecoder::new(r)),
        93 => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
        95 => Box::new(liblzma::bufread::XzDecoder::new(r)),
        u16::MAX => return Err(io::Error::other("the member is encrypted")),
        m => {
            return Err(io::Error::other(format!(
                "zip compression method {m} is not read; extract the archive first (`unzip FILE`)"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_that_ends_before_its_size_is_an_error() {
        let mut whole = Vec::new();
        Exact::new(Box::new(&b"abcdef"[..]), 4)
            .read_to_end(&mut whole)
            .unwrap();
        assert_eq!(whole, b"abcd");
        let mut cut = Vec::new();
        let e = Exact::new(Box::new(&b"abc"[..]), 5)
            .read_to_end(&mut cut)
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(cut, b"abc");
    }

    #[test]
    fn archives_are_known_by_content_and_listed_by_name() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("api.log");
        std::fs::write(&log, b"{\"requestId\":\"a\"}\n").unwrap();
        assert_eq!(sniff(&log), None);
        let tar_path = d.path().join("logs.tar.zst");
        let mut t = tar::Builder::new(
            zstd::stream::write::Encoder::new(std::fs::File::create(&tar_path).unwrap(), 3)
                .unwrap()
                .auto_finish(),
        );
        for name in ["b/2.log", "a/1.log"] {
            t.append_path_with_name(&log, name).unwrap();
        }
        drop(t.into_inner().unwrap());
        let kind = sniff(&tar_path).unwrap();
        assert_eq!(kind, Kind::Tar(Some(Compression::Zstd)));
        let (members, err) = list(&tar_path, kind);
        assert!(err.is_none());
        // A tar's members stay in archive order, the order they are read fastest in.
        let names: Vec<_> = members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["b/2.log", "a/1.log"]);
        // In order, the second from the decoder the first parked; back again from the start.
        let fresh = || FRESH.load(std::sync::atomic::Ordering::Relaxed);
        let before = fresh();
        for i in [0, 1, 0] {
            let mut text = String::new();
            open(&members[i])
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            assert_eq!(text, "{\"requestId\":\"a\"}\n");
        }
        assert_eq!(fresh() - before, 2);
        // A member read only in part parks its decoder too.
        let before = fresh();
        let mut head = [0u8; 4];
        open(&members[0]).unwrap().read_exact(&mut head).unwrap();
        open(&members[1]).unwrap().read_exact(&mut head).unwrap();
        assert_eq!(fresh() - before, 1);
        assert_eq!(members[0].file_name(), "2.log");
        assert!(members[1].display().ends_with("logs.tar.zst!/a/1.log"));
    }
}
