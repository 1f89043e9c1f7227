//! What undoes a file's packing before its records are read: the compressions logrotate
//! and exports write (known by their magic bytes, not the name) and UTF-16 text.

use std::io::{self, BufRead, Read};

/// A compression breachline undoes, recognized by its magic bytes: gzip (what logrotate
/// and CloudWatch exports write) and the other `compresscmd`s of logrotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip, concatenated members too.
    Gzip,
    /// bzip2, concatenated streams too.
    Bzip2,
    /// xz, concatenated streams too.
    Xz,
    /// Zstandard, concatenated frames too.
    Zstd,
    /// LZ4 frame format.
    Lz4,
}

impl Compression {
    /// The compression the first bytes of a stream name.
    pub fn sniff(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
            Some(Compression::Bzip2)
        } else if head.starts_with(b"\xFD7zXZ\x00") {
            Some(Compression::Xz)
        } else if head.starts_with(b"\x28\xB5\x2F\xFD") {
            Some(Compression::Zstd)
        } else if head.starts_with(b"\x04\x22\x4D\x18") {
            Some(Compression::Lz4)
        } else {
            None
        }
    }

    /// Its usual name.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
            Compression::Lz4 => "lz4",
        }
    }

    /// A reader of the decompressed stream.
    pub(crate) fn decoder<R: BufRead + Send + 'static>(
        self,
        r: R,
    ) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
            Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(r)),
            Compression::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(r)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
            Compression::Lz4 => Box::new(MultiLz4 {
                dec: Some(lz4::Decoder::new(r)?),
            }),
        })
    }
}

/// LZ4 frames one after another, as appending rotations writes them: the lz4 decoder
/// stops at the end of its frame, so a new one is started while bytes remain.
struct MultiLz4<R: BufRead> {
    dec: Option<lz4::Decoder<R>>,
}

impl<R: BufRead> Read for MultiLz4<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some(dec) = self.dec.as_mut() {
            let n = dec.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let Some(dec) = self.dec.take() else { break };
            let (mut rest, end) = dec.finish();
            // The decoder says `Interrupted`, which readers retry as if nothing happened.
            end.map_err(|_| io::Error::new(io::ErrorKind::UnexpectedEof, "incomplete frame"))?;
            if !rest.fill_buf()?.is_empty() {
                self.dec = Some(lz4::Decoder::new(rest)?);
            }
        }
        Ok(0)
    }
}

/// The UTF-16 byte order of a text stream: by its byte-order mark (what PowerShell's `>`
/// and `Out-File` and Windows "Unicode" exports write), or, without one, by ASCII text
/// whose every other byte is NUL.
pub fn utf16(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    if head.starts_with(b"\xFF\xFE") {
        return Some(encoding_rs::UTF_16LE);
    }
    if head.starts_with(b"\xFE\xFF") {
        return Some(encoding_rs::UTF_16BE);
    }
    let n = head.len().min(256) & !1;
    if n < 8 {
        return None;
    }
    let text = |b: u8| b == b'\t' || b == b'\n' || b == b'\r' || (0x20..0x7f).contains(&b);
    let pairs = || head[..n].chunks_exact(2);
    if pairs().all(|p| text(p[0]) && p[1] == 0) {
        Some(encoding_rs::UTF_16LE)
    } else if pairs().all(|p| p[0] == 0 && text(p[1])) {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressions_are_known_by_their_magic_bytes() {
        let cases: [(&[u8], Option<Compression>); 8] = [
            (b"\x1f\x8b\x08\x00", Some(Compression::Gzip)),
            (b"BZh91AY&SY", Some(Compression::Bzip2)),
            (b"BZhello world\n", None),
            (b"\xFD7zXZ\x00\x00", Some(Compression::Xz)),
            (b"\x28\xB5\x2F\xFD\x24", Some(Compression::Zstd)),
            (b"\x04\x22\x4D\x18\x64", Some(Compression::Lz4)),
            (b"PK\x03\x04", None),
            (b"{\"requestId\":", None),
        ];
        for (head, want) in cases {
            assert_eq!(Compression::sniff(head), want, "{head:?}");
        }
    }

    #[test]
    fn utf16_is_known_by_its_mark_or_its_nul_bytes() {
        let le: Vec<u8> = "2025-11-01 02:01:42,db,app"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = "2025-11-01 02:01:42,db,app"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(utf16(&le), Some(encoding_rs::UTF_16LE));
        assert_eq!(utf16(&be), Some(encoding_rs::UTF_16BE));
        assert_eq!(utf16(b"\xFF\xFEx"), Some(encoding_rs::UTF_16LE));
        assert_eq!(utf16(b"\xFE\xFF"), Some(encoding_rs::UTF_16BE));
        // UTF-8 text, binary with NULs, and too little to tell.
        assert_eq!(utf16(b"2025-11-01 02:01:42,db,app"), None);
        assert_eq!(utf16(b"\x00\x01\x00\x02\x00\x03\x00\x04\x00\x05"), None);
        assert_eq!(utf16(b"a\x00b\x00"), None);
    }
}
