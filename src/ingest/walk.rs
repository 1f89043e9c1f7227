//! Evidence arguments expanded into inputs: files as named, directories walked
//! recursively in sorted order, archives listed member by member, and what a walk does
//! not read (links unless followed, hidden entries, pipes, documentation, our own
//! outputs) listed with the reason.

use super::archive;
use super::input::Input;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Expands evidence arguments: files stay, directories are walked recursively in sorted
/// order, `-` is stdin. What a walk does not read (hidden entries, links unless
/// `follow`, pipes, documentation, our own outputs) is listed with the reason.
pub fn expand(args: &[String], follow: bool) -> Vec<Input> {
    let mut out = Vec::new();
    let mut walk = Walk {
        follow,
        seen: BTreeMap::new(),
    };
    for a in args {
        if a == "-" {
            out.push(Input::Stdin);
            continue;
        }
        let p = Path::new(a);
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                // Named, a directory is walked even when a link led there before.
                let _ = walk.first_time(p);
                walk.dir(p, &mut out)
            }
            Ok(m) => file_or_members(p.to_path_buf(), m.is_file(), &mut out),
            Err(e) => out.push(Input::Bad(a.clone(), e.to_string())),
        }
    }
    out
}

/// Files a directory walk lists but does not parse: documentation, rosters and answer
/// keys shipped beside evidence. They appear in the inventory with the reason.
fn not_evidence(name: &str) -> Option<&'static str> {
    if name.eq_ignore_ascii_case("README.md") || name.ends_with(".md") {
        Some("documentation, not evidence")
    } else if name == "truth.json" {
        Some("simulator answer key, not evidence")
    } else if name.contains("roster") {
        Some("customer roster: pass it with --roster")
    } else if name.ends_with(".inventory.json") {
        Some("case-file inventory")
    } else if name.ends_with(".parquet") {
        Some("case file: give it on its own to analyse it")
    } else if name.ends_with(".part") {
        // A case file being written, possibly by this very run (`-o` inside the
        // evidence directory).
        Some("unfinished breachline output")
    } else {
        None
    }
}

/// A file, or the members of the archive it is: each member is evidence of its own, and
/// what a directory walk does not read (hidden files, links, documentation, rosters) it
/// lists in an archive too. `regular` is false for a pipe (`<(zcat x.gz)`), which is read
/// once: looking into it would lose what was looked at.
fn file_or_members(p: PathBuf, regular: bool, out: &mut Vec<Input>) {
    let Some(kind) = regular.then(|| archive::sniff(&p)).flatten() else {
        out.push(Input::File(p));
        return;
    };
    let (members, mut why) = archive::list(&p, kind);
    if why.is_none() && members.is_empty() {
        why = Some("the archive holds no files".into());
    }
    let what = format!(
        "{} of {} files, each listed as {}!/MEMBER",
        archive::kind_name(kind),
        members.len(),
        p.display()
    );
    out.push(Input::Archive(p, what, why));
    for m in members {
        let listed = PathBuf::from(m.display());
        match member_skip(&m) {
            Some(why) => out.push(Input::NotEvidence(listed, why)),
            None => match not_evidence(m.file_name()) {
                Some(why) => out.push(Input::NotEvidence(listed, why.into())),
                None => out.push(Input::Member(Box::new(m))),
            },
        }
    }
}

/// Why an archive member is listed and not read: a link, or what a directory walk
/// would not read either.
fn member_skip(m: &archive::Member) -> Option<String> {
    if let Some(to) = &m.link {
        let to = if to.is_empty() {
            "a path not stored plainly"
        } else {
            to
        };
        return Some(format!(
            "link to {to} inside the archive, not followed: the file it names is read \
             where it is a member itself"
        ));
    }
    if m.name.starts_with("__MACOSX/") {
        return Some("macOS metadata (AppleDouble) a zip from Finder carries, not evidence".into());
    }
    // `tar -cf x.tar .` names every member `./…`; that is no hidden file.
    let hidden = m
        .name
        .split('/')
        .any(|c| c.starts_with('.') && c != "." && c != "..");
    hidden.then(|| "hidden file, not read: extract it and name it to read it".into())
}

/// A directory walk. Following links, it remembers the directories and files it has
/// listed by their real paths: a link back up the tree, or a second way to the same
/// place, is listed once with the path it was first listed under, and not read twice.
struct Walk {
    follow: bool,
    /// Real path → the path it was first listed under.
    seen: BTreeMap<PathBuf, PathBuf>,
}

impl Walk {
    /// Records the directory or file reached at `p`, when links are followed; the path
    /// it was first listed under when it was seen before.
    fn first_time(&mut self, p: &Path) -> Result<(), PathBuf> {
        if !self.follow {
            return Ok(());
        }
        let Ok(real) = std::fs::canonicalize(p) else {
            return Ok(());
        };
        match self.seen.get(&real) {
            Some(first) => Err(first.clone()),
            None => {
                self.seen.insert(real, p.to_path_buf());
                Ok(())
            }
        }
    }

    fn dir(&mut self, dir: &Path, out: &mut Vec<Input>) {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                out.push(Input::Bad(dir.display().to_string(), e.to_string()));
                return;
            }
        };
        entries.sort();
        for p in entries {
            self.entry(p, out);
        }
    }

    fn entry(&mut self, p: PathBuf, out: &mut Vec<Input>) {
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        // Links are not followed unless asked: one that points back up the tree would
        // walk it again and again, and one that points out of the evidence (`access.log
        // -> /dev/stdout` in nginx images, an absolute path copied from the server) would
        // read this machine's files as evidence. Named on the command line, they are read.
        let m = match std::fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) => {
                out.push(Input::Bad(p.display().to_string(), e.to_string()));
                return;
            }
        };
        let mut t = m.file_type();
        let link = t.is_symlink().then(|| {
            std::fs::read_link(&p).map_or_else(|_| "?".into(), |t| t.display().to_string())
        });
        if let Some(to) = &link {
            if !self.follow {
                let why = format!("symbolic link to {to}, not followed in a walk: name it to read it (or walk with --follow)");
                out.push(Input::NotEvidence(p, why));
                return;
            }
        }
        if name.starts_with('.') {
            let what = if t.is_dir() || (link.is_some() && p.is_dir()) {
                "hidden directory, not walked"
            } else {
                "hidden file, not read"
            };
            out.push(Input::NotEvidence(p, format!("{what}: name it to read it")));
            return;
        }
        if let Some(to) = &link {
            match std::fs::metadata(&p) {
                Ok(m) => t = m.file_type(),
                Err(e) => {
                    let why = format!("symbolic link to {to}, which cannot be followed: {e}");
                    out.push(Input::NotEvidence(p, why));
                    return;
                }
            }
        }
        let via = link.map_or_else(String::new, |to| format!("symbolic link to {to}: "));
        if t.is_dir() {
            match self.first_time(&p) {
                Ok(()) => self.dir(&p, out),
                Err(first) => {
                    let why = format!(
                        "{via}directory already walked as {}, not walked again",
                        first.display()
                    );
                    out.push(Input::NotEvidence(p, why));
                }
            }
        } else if t.is_file() {
            if let Err(first) = self.first_time(&p) {
                let why = format!(
                    "{via}file already listed as {}, not read twice",
                    first.display()
                );
                out.push(Input::NotEvidence(p, why));
                return;
            }
            match not_evidence(&name) {
                Some(why) => out.push(Input::NotEvidence(p, why.into())),
                None => file_or_members(p, true, out),
            }
        } else {
            let why = format!(
                "{via}{}, not read in a walk: name it to read it",
                special(&t)
            );
            out.push(Input::NotEvidence(p, why));
        }
    }
}

/// What a directory entry that is neither file, directory nor link is.
fn special(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "named pipe";
        } else if t.is_socket() {
            return "socket";
        } else if t.is_block_device() || t.is_char_device() {
            return "device";
        }
    }
    let _ = t;
    "special file"
}
