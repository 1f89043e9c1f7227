//! Output files of the simulator: logrotate-style naming, gzip for rotated files, injected
//! malformed lines, and per-file line counts for `truth.json`.

use super::rng::Rng;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Counts of one written file.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FileTruth {
    /// Path relative to the output directory.
    pub path: String,
    /// Physical lines written.
    pub lines: u64,
    /// Records (a multi-line statement counts once).
    pub records: u64,
    /// Malformed records injected.
    pub malformed: u64,
    /// Records repeated from another file (overlapping rotation).
    pub duplicates: u64,
    /// Records that are not evidence (header rows, blank lines).
    pub skipped: u64,
}

/// One output file.
pub struct OutFile {
    w: Box<dyn Write + Send>,
    /// Counts.
    pub truth: FileTruth,
}

impl OutFile {
    /// Creates a file (gzip when `gz`; level 1 when `fast`, for benchmark-size output).
    pub fn create(root: &Path, rel: &str, gz: bool, fast: bool) -> std::io::Result<OutFile> {
        let p: PathBuf = root.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        let f = BufWriter::with_capacity(1 << 20, File::create(&p)?);
        let w: Box<dyn Write + Send> = if gz {
            Box::new(GzEncoder::new(
                f,
                if fast {
                    Compression::fast()
                } else {
                    Compression::new(6)
                },
            ))
        } else {
            Box::new(f)
        };
        Ok(OutFile {
            w,
            truth: FileTruth {
                path: rel.to_string(),
                ..Default::default()
            },
        })
    }
    /// Writes one record (may contain newlines) and a newline.
    pub fn record(&mut self, s: &str) -> std::io::Result<()> {
        self.w.write_all(s.as_bytes())?;
        self.w.write_all(b"\n")?;
        self.truth.lines += 1 + s.bytes().filter(|b| *b == b'\n').count() as u64;
        self.truth.records += 1;
        Ok(())
    }
    /// Writes a non-evidence line (header).
    pub fn header(&mut self, s: &str) -> std::io::Result<()> {
        self.record(s)?;
        self.truth.skipped += 1;
        Ok(())
    }
    /// Writes raw text without counting (array brackets, separators).
    pub fn raw(&mut self, s: &str) -> std::io::Result<()> {
        self.w.write_all(s.as_bytes())?;
        self.truth.lines += s.bytes().filter(|b| *b == b'\n').count() as u64;
        Ok(())
    }
    /// Writes a malformed record.
    pub fn malformed(&mut self, s: &str) -> std::io::Result<()> {
        self.record(s)?;
        self.truth.malformed += 1;
        Ok(())
    }
    /// Flushes and closes.
    pub fn finish(mut self) -> std::io::Result<FileTruth> {
        self.w.flush()?;
        drop(self.w);
        Ok(self.truth)
    }
}

/// A set of per-day rotated files for one format.
pub struct Rotated {
    root: PathBuf,
    /// Name for day index and age (0 = current).
    name: Box<dyn Fn(u32, u32) -> (String, bool) + Send + Sync>,
    files: BTreeMap<u32, OutFile>,
    days: u32,
    rng: Rng,
    /// Malformed-line maker: given a good record, returns a bad one.
    pub breaker: fn(&str, &mut Rng) -> String,
    done: Vec<FileTruth>,
    /// Written first in every file: (text, is a header record).
    pub preamble: Option<(String, bool)>,
    /// Written last in rotated (closed) files only, uncounted (`]`).
    pub postamble: Option<String>,
    /// Fast gzip (benchmark-size output).
    pub fast: bool,
}

impl Rotated {
    /// Rotated output; `name(day, age)` gives (relative path, gzip).
    pub fn new(
        root: &Path,
        days: u32,
        seed: u64,
        name: Box<dyn Fn(u32, u32) -> (String, bool) + Send + Sync>,
        breaker: fn(&str, &mut Rng) -> String,
    ) -> Rotated {
        Rotated {
            root: root.to_path_buf(),
            name,
            files: BTreeMap::new(),
            days,
            rng: Rng::new(seed),
            breaker,
            done: Vec::new(),
            preamble: None,
            postamble: None,
            fast: false,
        }
    }
    /// The file of a day, created on first use.
    pub fn file(&mut self, day: u32) -> std::io::Result<&mut OutFile> {
        if !self.files.contains_key(&day) {
            let age = self.days - 1 - day.min(self.days - 1);
            let (rel, gz) = (self.name)(day, age);
            let mut f = OutFile::create(&self.root, &rel, gz, self.fast)?;
            match &self.preamble {
                Some((p, true)) => f.header(p)?,
                Some((p, false)) => f.raw(p)?,
                None => {}
            }
            self.files.insert(day, f);
        }
        Ok(self.files.get_mut(&day).expect("inserted above"))
    }
    /// Writes a record that repeats one of another file (overlapping rotation).
    pub fn write_dup(&mut self, day: u32, rec: &str) -> std::io::Result<()> {
        self.file(day)?.record(rec)
    }
    /// The relative path of a day's file.
    pub fn rel(&self, day: u32) -> String {
        let age = self.days - 1 - day.min(self.days - 1);
        (self.name)(day, age).0
    }
    /// Writes a record to a day's file, sometimes preceded by a malformed one.
    pub fn write(&mut self, day: u32, rec: &str) -> std::io::Result<()> {
        let bad = self.rng.below(4000) == 0;
        let broken = if bad {
            Some((self.breaker)(rec, &mut self.rng))
        } else {
            None
        };
        let f = self.file(day)?;
        if let Some(b) = broken {
            f.malformed(&b)?;
        }
        f.record(rec)
    }
    /// Closes every file.
    pub fn finish(mut self) -> std::io::Result<Vec<FileTruth>> {
        let files = std::mem::take(&mut self.files);
        let last = files.keys().max().copied();
        for (day, mut f) in files {
            if let (Some(p), true) = (&self.postamble, Some(day) != last) {
                f.raw(p)?;
            }
            self.done.push(f.finish()?);
        }
        Ok(self.done)
    }
}

/// Breaks a JSON line by cutting it (the framer still sees one line).
pub fn cut_line(rec: &str, r: &mut Rng) -> String {
    let n = rec.len();
    let mut at = (n / 3 + r.below((n / 3).max(1) as u64) as usize).min(n.saturating_sub(1));
    while at > 0 && !rec.is_char_boundary(at) {
        at -= 1;
    }
    rec[..at].to_string()
}

/// Breaks a text line by cutting it inside its timestamp.
pub fn cut_head(rec: &str, _r: &mut Rng) -> String {
    rec.chars().take(12).collect()
}

/// A line of binary-looking garbage with no quotes or braces.
pub fn garbage(_rec: &str, r: &mut Rng) -> String {
    format!("\u{1}\u{2}\u{3}corrupt-{}", r.hex(24))
}
