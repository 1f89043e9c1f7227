//! A zip whose directory is lost — a download cut short loses the end of the file, where
//! the directory is — listed by walking the local header that precedes each member.

use super::archive::{Kind, Member};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// The members a zip's local headers name, in file order, until the headers end (the
/// directory's first entry, the end of a file cut short, or bytes that are no header).
/// A member whose sizes follow its data (a zip written as a stream) is deflated to find
/// its end.
pub fn list(path: &Path, out: &mut Vec<Member>) -> io::Result<()> {
    let mut f = BufReader::with_capacity(1 << 16, File::open(path)?);
    loop {
        let start = f.stream_position()?;
        let mut h = [0u8; 30];
        if !read_all(&mut f, &mut h)? || &h[..4] != b"PK\x03\x04" {
            return Ok(());
        }
        let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let (flags, method) = (u16_at(6), u16_at(8));
        let (mut crc, mut stored, mut size) =
            (u32_at(14), u64::from(u32_at(18)), u64::from(u32_at(22)));
        let mut name = vec![0u8; usize::from(u16_at(26))];
        let mut extra = vec![0u8; usize::from(u16_at(28))];
        if !read_all(&mut f, &mut name)? || !read_all(&mut f, &mut extra)? {
            return Ok(());
        }
        if let Some((s, c)) = zip64_sizes(&extra, size, stored) {
            (size, stored) = (s, c);
        }
        let offset = start + 30 + name.len() as u64 + extra.len() as u64;
        if flags & 8 != 0 {
            if method != 8 {
                return Err(io::Error::other(
                    "a member written as a stream without a length, not deflated: its end cannot be found",
                ));
            }
            let mut d = flate2::bufread::DeflateDecoder::new(&mut f);
            io::copy(&mut d, &mut io::sink())?;
            (stored, size) = (d.total_in(), d.total_out());
            // The data descriptor: an optional signature, the CRC-32 and two sizes.
            let mut dd = [0u8; 4];
            if !read_all(&mut f, &mut dd)? {
                return Ok(());
            }
            if dd == *b"PK\x07\x08" && !read_all(&mut f, &mut dd)? {
                return Ok(());
            }
            crc = u32::from_le_bytes(dd);
            let wide = zip64_sizes(&extra, u64::MAX, u64::MAX).is_some();
            let mut sizes = vec![0u8; if wide { 16 } else { 8 }];
            if !read_all(&mut f, &mut sizes)? {
                return Ok(());
            }
        } else {
            f.seek(SeekFrom::Start(offset + stored))?;
        }
        let name = String::from_utf8_lossy(&name).into_owned();
        if name.ends_with('/') {
            continue;
        }
        out.push(Member {
            archive: path.to_path_buf(),
            name,
            kind: Kind::Zip,
            offset,
            stored,
            size,
            method: if flags & 1 != 0 { u16::MAX } else { method },
            modified: None,
            crc32: Some(crc),
            link: None,
        });
        if f.fill_buf()?.is_empty() {
            return Ok(());
        }
    }
}

/// Fills `buf`, or says the file ended first.
fn read_all(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    match r.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// The sizes of the zip64 extra field (id 1), which holds those the header marks as
/// 0xFFFFFFFF: the uncompressed size first, then the compressed.
fn zip64_sizes(extra: &[u8], size: u64, stored: u64) -> Option<(u64, u64)> {
    let mut i = 0;
    while i + 4 <= extra.len() {
        let id = u16::from_le_bytes([extra[i], extra[i + 1]]);
        let len = usize::from(u16::from_le_bytes([extra[i + 2], extra[i + 3]]));
        let body = extra.get(i + 4..i + 4 + len)?;
        if id == 1 {
            let mut vals = body
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()));
            let big = u64::from(u32::MAX);
            let s = if size >= big { vals.next()? } else { size };
            let c = if stored >= big { vals.next()? } else { stored };
            return Some((s, c));
        }
        i += 4 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A member as a zip written to a stream holds it: sizes and CRC-32 after the data.
    fn streamed(name: &str, text: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text).unwrap();
        let data = e.finish().unwrap();
        let mut crc = flate2::Crc::new();
        crc.update(text);
        let mut z = b"PK\x03\x04\x14\x00\x08\x00\x08\x00\x00\x00\x21\x00".to_vec();
        z.extend_from_slice(&[0; 12]);
        z.extend_from_slice(&(name.len() as u16).to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z.extend_from_slice(name.as_bytes());
        z.extend_from_slice(&data);
        z.extend_from_slice(b"PK\x07\x08");
        z.extend_from_slice(&crc.sum().to_le_bytes());
        z.extend_from_slice(&(data.len() as u32).to_le_bytes());
        z.extend_from_slice(&(text.len() as u32).to_le_bytes());
        z
    }

    #[test]
    fn a_streamed_zip_without_its_directory_lists_its_members() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("export.zip");
        let a = "2025-11-04 09:41:03 UTC,app,loyalty\n".repeat(50);
        let mut bytes = streamed("logs/a.csv", a.as_bytes());
        bytes.extend(streamed("logs/b.csv", b"second\n"));
        // The third member cut inside its data, and no directory.
        let third = streamed("logs/c.csv", a.as_bytes());
        bytes.extend_from_slice(&third[..third.len() / 2]);
        std::fs::write(&p, &bytes).unwrap();
        let mut found = Vec::new();
        let end = list(&p, &mut found);
        assert!(end.is_err(), "the cut member's deflate stream ends early");
        let names: Vec<_> = found.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["logs/a.csv", "logs/b.csv"]);
        assert_eq!((found[0].size, found[1].size), (a.len() as u64, 7));
        for (m, want) in found.iter().zip([a.as_str(), "second\n"]) {
            let mut text = String::new();
            crate::ingest::archive::open(m)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            assert_eq!(text, want);
        }
        // Through the archive listing: the members, and the lost directory named.
        let (members, why) = crate::ingest::archive::list(&p, Kind::Zip);
        assert_eq!(members.len(), 2);
        assert!(why.unwrap().contains("found by their local headers"));
    }
}
