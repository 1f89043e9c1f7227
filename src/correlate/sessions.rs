//! Identities of database sessions whose records do not repeat them. A PostgreSQL stderr
//! log whose `log_line_prefix` has no `%u`, `%d` or `%h` (the default `%m [%p] `) names
//! the client, user and database once, in the session's `connection received` and
//! `connection authorized` lines; its statements carry only the process id. Each
//! statement takes the identity of the latest session its process id opened in the same
//! directory and format, until that session's `disconnection` (process ids are reused).
//! Where only the `disconnection` line names them (`log_disconnections` without
//! `log_connections`, or a log whose session began before it), the session's records
//! back to its start take them from it.

use crate::model::{Event, FileInfo, SourceKind, Text};
use foldhash::{HashMap, HashMapExt};

#[derive(Default)]
struct Identity {
    user: Option<Text>,
    db: Option<Text>,
    host: Option<Text>,
}

/// Fills missing DB users, databases and client hosts from the session's connection
/// records, marking each filled event (`identity_from`). Returns how many were filled.
/// Events are in time order.
#[allow(clippy::vec_box)] // the events' one shape everywhere
pub fn fill(events: &mut [Box<Event>], files: &[FileInfo]) -> usize {
    let needs = |e: &Event| {
        e.kind() == SourceKind::Db
            && e.session_id.is_some()
            && (e.db_user.is_none() || e.db_host.is_none())
    };
    // Most evidence names the user and client on every record: no map built.
    if !events.iter().any(|e| needs(e)) {
        return 0;
    }
    let dir: Vec<&str> = files
        .iter()
        .map(|f| f.path.rsplit_once('/').map_or("", |(d, _)| d))
        .collect();
    let mut open: HashMap<(&str, &'static str, Text), Identity> = HashMap::new();
    let mut filled = 0;
    for e in events.iter_mut() {
        if e.kind() != SourceKind::Db {
            continue;
        }
        if e.session_id.is_none() {
            continue;
        }
        let cmd = e.command.as_deref().unwrap_or("");
        let complete = e.db_user.is_some() && e.db_name.is_some() && e.db_host.is_some();
        // A record naming everything needs nothing, and what it names its session's
        // others name too: only session starts and ends are kept track of then.
        if complete && !matches!(cmd, "connection received" | "disconnection") {
            continue;
        }
        let d = dir.get(e.file as usize).copied().unwrap_or("");
        let key = (
            d,
            e.format.as_str(),
            e.session_id.clone().unwrap_or_default(),
        );
        if cmd == "connection received" {
            open.insert(key.clone(), Identity::default());
        }
        let id = open.entry(key.clone()).or_default();
        let (had_user, had_db, had_host) = (
            e.db_user.is_some(),
            e.db_name.is_some(),
            e.db_host.is_some(),
        );
        // What this record names is the session's from now on.
        for (mine, theirs) in [
            (&mut e.db_user, &mut id.user),
            (&mut e.db_name, &mut id.db),
            (&mut e.db_host, &mut id.host),
        ] {
            match (mine.as_ref(), theirs.as_ref()) {
                (Some(m), None) => *theirs = Some(m.clone()),
                (None, Some(t)) => *mine = Some(t.clone()),
                _ => {}
            }
        }
        if (!had_user && e.db_user.is_some())
            || (!had_db && e.db_name.is_some())
            || (!had_host && e.db_host.is_some())
        {
            e.extra.insert("identity_from", "session");
            filled += 1;
        }
        if cmd == "disconnection" {
            open.remove(&key);
        }
    }
    // Backwards: a session's end names what its earlier records may not.
    let mut ends: HashMap<(&str, &'static str, Text), Identity> = HashMap::new();
    for e in events.iter_mut().rev() {
        if e.kind() != SourceKind::Db || e.session_id.is_none() {
            continue;
        }
        let cmd = e.command.as_deref().unwrap_or("");
        let d = dir.get(e.file as usize).copied().unwrap_or("");
        let key = (
            d,
            e.format.as_str(),
            e.session_id.clone().unwrap_or_default(),
        );
        if cmd == "disconnection" {
            ends.insert(
                key,
                Identity {
                    user: e.db_user.clone(),
                    db: e.db_name.clone(),
                    host: e.db_host.clone(),
                },
            );
            continue;
        }
        let Some(id) = ends.get(&key) else { continue };
        let mut more = false;
        for (mine, theirs) in [
            (&mut e.db_user, &id.user),
            (&mut e.db_name, &id.db),
            (&mut e.db_host, &id.host),
        ] {
            if let (None, Some(t)) = (mine.as_ref(), theirs) {
                *mine = Some(t.clone());
                more = true;
            }
        }
        if more && e.extra.get("identity_from").is_none() {
            e.extra.insert("identity_from", "session");
            filled += 1;
        }
        // The session began here: records before are another's (process ids are reused).
        if matches!(cmd, "connection received" | "connection authorized") {
            ends.remove(&key);
        }
    }
    filled
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(line: u64, pid: &str, cmd: &str, user: Option<&str>, host: Option<&str>) -> Box<Event> {
        let mut e = Event::new(SourceKind::Db, "pg-stderr");
        e.ts = line as i64;
        e.line = line;
        e.session_id = Some(pid.into());
        e.command = Some(cmd.into());
        e.db_user = user.map(Into::into);
        e.db_host = host.map(Into::into);
        Box::new(e)
    }

    #[test]
    fn statements_take_their_sessions_identity_until_it_ends() {
        let files = [FileInfo {
            path: "case/db/postgresql.log".into(),
            ..Default::default()
        }];
        let mut evs = vec![
            ev(
                1,
                "pid:7",
                "connection received",
                None,
                Some("203.0.113.45"),
            ),
            ev(2, "pid:7", "connection authorized", Some("svc"), None),
            ev(3, "pid:8", "SELECT", None, None),
            ev(4, "pid:7", "SELECT", None, None),
            ev(
                5,
                "pid:7",
                "disconnection",
                Some("svc"),
                Some("203.0.113.45"),
            ),
            // The process id reused by a later session whose start was not kept.
            ev(6, "pid:7", "SELECT", None, None),
            ev(
                7,
                "pid:7",
                "connection received",
                None,
                Some("198.51.100.23"),
            ),
            ev(8, "pid:7", "UPDATE", Some("app"), None),
        ];
        assert_eq!(fill(&mut evs, &files), 3);
        assert!(evs[2].db_user.is_none(), "another process");
        assert_eq!(evs[3].db_user.as_deref(), Some("svc"));
        assert_eq!(evs[3].db_host.as_deref(), Some("203.0.113.45"));
        assert_eq!(evs[3].extra["identity_from"], "session");
        assert!(evs[5].db_user.is_none(), "the session had ended");
        assert_eq!(evs[7].db_user.as_deref(), Some("app"));
        assert_eq!(evs[7].db_host.as_deref(), Some("198.51.100.23"));
        // Records that name their user and client are left alone.
        let mut named = vec![ev(1, "pid:9", "SELECT", Some("u"), Some("h"))];
        assert_eq!(fill(&mut named, &files), 0);
        assert!(named[0].extra.get("identity_from").is_none());
        // A prefix with the user but not the client (`%m [%p] %u@%d `): the client only.
        let mut users = vec![
            ev(
                1,
                "pid:3",
                "connection received",
                None,
                Some("198.51.100.23"),
            ),
            ev(2, "pid:3", "SELECT", Some("app"), None),
        ];
        assert_eq!(fill(&mut users, &files), 1);
        assert_eq!(users[1].db_host.as_deref(), Some("198.51.100.23"));
        assert_eq!(users[1].db_user.as_deref(), Some("app"));
    }

    #[test]
    fn a_session_named_only_at_its_end_is_named_back_to_its_start() {
        // `log_disconnections` without `connection received` lines: a leaked service
        // password used from elsewhere is told from the service's own sessions only by
        // the client its disconnection names.
        let files = [FileInfo {
            path: "case/db/postgresql.log".into(),
            ..Default::default()
        }];
        let mut evs = vec![
            ev(1, "pid:5", "SELECT", Some("analytics"), None),
            ev(2, "pid:5", "connection authorized", Some("analytics"), None),
            ev(3, "pid:5", "COPY", Some("analytics"), None),
            ev(4, "pid:6", "SELECT", Some("app"), None),
            ev(
                5,
                "pid:5",
                "disconnection",
                Some("analytics"),
                Some("192.0.2.77"),
            ),
        ];
        assert_eq!(fill(&mut evs, &files), 2);
        assert_eq!(evs[2].db_host.as_deref(), Some("192.0.2.77"));
        assert_eq!(evs[1].db_host.as_deref(), Some("192.0.2.77"));
        assert_eq!(evs[2].extra["identity_from"], "session");
        assert!(evs[0].db_host.is_none(), "before the session began");
        assert!(evs[3].db_host.is_none(), "another process");
    }
}
