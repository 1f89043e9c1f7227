//! PostgreSQL server logs carrying pgaudit records: stderr with a `log_line_prefix`
//! (common prefixes detected, `--pg-prefix` for others, TAB continuation lines, zone
//! abbreviations), csvlog (26 columns, CSV inside CSV) and jsonlog (PG 15+). Connection,
//! authentication-failure and disconnection lines become events too.

use super::json::{object, s, u};
use super::pg_infer::Fields;
use super::pg_prefix::{best_prefix, for_line, Prefix, SEVERITY, SEVERITY_ANYWHERE};
use super::pg_statement::{self, Logged};
use super::pgaudit::{apply_audit, apply_sql, csv_split};
use super::{line_score, present, present_str, FileCtx, Framing, Head, Parsed, Parser};
use crate::model::{text, Event, Outcome, SourceKind, StmtClass};
use crate::sql::Dialect;
use crate::timeparse::{parse_epoch, parse_iso};
use regex::Regex;
use std::sync::{Arc, LazyLock};

/// The stderr format.
pub struct Stderr;

impl Parser for Stderr {
    fn name(&self) -> &'static str {
        "pg-stderr"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Db
    }
    fn detection(&self) -> &'static str {
        "`<log_line_prefix>SEVERITY:  message` (two spaces); prefix: a common one, else read from the lines (`%t`, `[%p-%l]`, `user@db`, `key=value`), or --pg-prefix"
    }
    fn example(&self) -> &'static str {
        "2024-03-05 14:22:01.123 EET [12345] svc@orders LOG:  AUDIT: SESSION,5,1,READ,SELECT,TABLE,public.customers,\"SELECT …\",<not logged>"
    }
    fn framing(&self) -> Framing {
        Framing::Continuation
    }
    fn sniff(&self, head: &Head) -> u8 {
        if !head
            .lines
            .iter()
            .take(50)
            .any(|l| SEVERITY_ANYWHERE.is_match(l))
        {
            return 0;
        }
        match best_prefix(head) {
            // A prefix read from the lines, or lines of several prefixes, are a weaker
            // sign than a known one: a parser made for the file's format wins.
            Some(p) if p.inferred || p.mixed => 60,
            Some(_) => 85,
            None => 0,
        }
    }
    fn prepare(&self, ctx: &mut FileCtx, head: &Head) -> Result<(), String> {
        let p = match &ctx.opts.pg_prefix {
            // Through syslog, a prefix without a time is read behind the header's time
            // and process id, which its messages take in front (`syslog::inner`).
            Some(t)
                if ctx.syslog.is_some() && !["%m", "%t", "%n"].iter().any(|e| t.contains(e)) =>
            {
                Prefix::compile(&format!("%m [%p] {t}"))?
            }
            Some(t) => Prefix::compile(t)?,
            None => best_prefix(head).ok_or("no known log_line_prefix fits; pass --pg-prefix")?,
        };
        ctx.pg_prefix = Some(Arc::new(p));
        Ok(())
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        let Some(prefix) = ctx.pg_prefix.as_deref() else {
            return Parsed::Reject("no log_line_prefix".into());
        };
        // A `DETAIL:  parameters:` line the framing joined to the statement line before.
        let (rec, joined) = match joined_line(rec) {
            Some((r, j)) => (r, Some(j)),
            None => (rec, None),
        };
        // Remove the TAB PostgreSQL put after each newline of a multi-line message.
        let text = rec.replace("\n\t", "\n");
        let joined = joined.map(|j| j.replace("\n\t", "\n"));
        let fields = prefix.fields(&text).ok_or(NO_MATCH);
        let (parsed, took) = match fields.and_then(|f| read(f, &text, joined.as_deref(), ctx)) {
            Ok(p) => p,
            // A reload changed `log_line_prefix`, or another server's log was joined to
            // this one: the line is read with the prefix it was written with, which the
            // event names.
            Err(why) => match for_line(&text).filter(|(t, _)| *t != prefix.template) {
                Some((own, f)) => match read(f, &text, joined.as_deref(), ctx) {
                    Ok((Parsed::Event(mut e), took)) => {
                        e.extra.insert("log_line_prefix", &*own);
                        (Parsed::Event(e), took)
                    }
                    Ok(p) => p,
                    Err(_) => (Parsed::Reject(why.into()), false),
                },
                None => (Parsed::Reject(why.into()), false),
            },
        };
        match joined {
            // A line that is not this message's detail is a record of its own.
            Some(j) if !took => Parsed::Many(vec![parsed, self.parse(&j, ctx)]),
            _ => parsed,
        }
    }
}

/// A record's statement line(s) and the `DETAIL:  parameters:` line (and its TAB
/// continuations) the framing joined to them: the first line break not followed by a
/// TAB starts it, if it starts such a line.
fn joined_line(rec: &str) -> Option<(&str, &str)> {
    let i = rec
        .match_indices('\n')
        .map(|(i, _)| i)
        .find(|&i| !rec[i + 1..].starts_with('\t'))?;
    let next = &rec[i + 1..];
    let line = next.split('\n').next().unwrap_or("");
    pg_statement::is_parameters(line.as_bytes()).then(|| (&rec[..i], next))
}

/// The detail a joined `DETAIL:` line holds, when it is the detail of the message whose
/// prefix values are `primary`: the same process, session and time where both lines
/// name them (a line through syslog may name none: its chunk tag ties it).
fn joined_detail<'a>(primary: &Fields, line: &'a str, ctx: &FileCtx) -> Option<&'a str> {
    let m = SEVERITY_ANYWHERE.find(line)?;
    let sev = line[m.start()..m.end()].trim_end().trim_end_matches(':');
    if english_severity(sev) != "DETAIL" {
        return None;
    }
    // The file's prefix first: the detail line is written with the statement's.
    let own = ctx
        .pg_prefix
        .as_deref()
        .and_then(|p| p.fields(line))
        .or_else(|| for_line(line).map(|(_, f)| f));
    if let Some(f) = own {
        let same = |a: Option<&str>, b: Option<&str>| a.zip(b).is_none_or(|(a, b)| a == b);
        if !(same(primary.pid, f.pid) && same(primary.session, f.session) && same(primary.ts, f.ts))
        {
            return None;
        }
    }
    Some(&line[m.end()..])
}

const NO_MATCH: &str = "line does not match the log_line_prefix";

/// A stderr record read with the values of its prefix, and whether the joined detail
/// line was its message's; `Err` when no severity follows.
fn read<'a>(
    f: Fields<'a>,
    rec: &'a str,
    joined: Option<&str>,
    ctx: &FileCtx,
) -> Result<(Parsed, bool), &'static str> {
    let rest = &rec[f.end..];
    let Some(sc) = SEVERITY.captures(rest) else {
        return Err("no SEVERITY:  after the prefix");
    };
    let mut e = Event::new(SourceKind::Db, Stderr.name());
    let g = |v: Option<&'a str>| v.and_then(present_str);
    if let Some(ts) = g(f.ts) {
        match parse_iso(ts, &ctx.opts.assume_tz) {
            Some(p) => {
                e.ts = p.us;
                e.tz_assumed = p.assumed;
            }
            None => return Ok((Parsed::Reject(format!("bad timestamp {ts:?}")), false)),
        }
    } else if let Some(ep) = g(f.epoch).and_then(parse_epoch) {
        e.ts = ep;
    } else {
        return Ok((Parsed::Reject("prefix has no timestamp".into()), false));
    }
    let detail = joined.and_then(|j| joined_detail(&f, j, ctx));
    e.db_user = g(f.user).filter(|u| *u != "[unknown]").map(text);
    e.db_name = g(f.db).filter(|u| *u != "[unknown]").map(text);
    e.db_host = g(f.host).map(|h| strip_port(h).into());
    let pid = g(f.pid);
    e.session_id = g(f.session)
        .map(text)
        .or_else(|| pid.map(|p| text(&format!("pid:{p}"))));
    if let Some(p) = pid {
        e.extra.insert("pid", p);
    }
    if let Some(a) = g(f.app).filter(|a| *a != "[unknown]") {
        e.extra.insert("application_name", a);
    }
    let sev = sc.get(1).map(|m| m.as_str()).unwrap_or("");
    let body = sc.get(0).map_or("", |m| &rest[m.end()..]);
    // `AUDIT: ` looks like a verbose-mode SQLSTATE to the pattern; put it back.
    let msg = match sc.get(2).map(|m| m.as_str()) {
        Some("AUDIT") => format!("AUDIT: {body}"),
        _ => body.to_string(),
    };
    Ok((message(e, sev, &msg, detail, ctx), detail.is_some()))
}

fn strip_port(h: &str) -> String {
    let h = h.trim();
    match h.find('(') {
        Some(i) => h[..i].to_string(),
        None => h.to_string(),
    }
}

static AUTH_FAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^password authentication failed for user "([^"]*)""#).expect("static regex")
});
static KV: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(\w+)=(\S+)").expect("static regex"));

/// The English severity of a translated one (`lc_messages` other than C), from the
/// translations PostgreSQL ships for the severities whose meaning matters here.
pub(super) fn english_severity(sev: &str) -> &str {
    match sev {
        "FEHLER" | "ERREUR" | "ERRORE" | "ОШИБКА" | "ПОМИЛКА" | "BŁĄD" => "ERROR",
        "ВАЖНО" | "ФАТАЛЬНО" | "FATALE" | "KRYTYCZNY" => "FATAL",
        "PANIK" | "ПАНИКА" | "ПАНІКА" | "PANICO" => "PANIC",
        "ANWEISUNG" | "INSTRUCTION" | "SENTENCIA" | "ОПЕРАТОР" | "ІНСТРУКЦІЯ" => {
            "STATEMENT"
        }
        "СООБЩЕНИЕ" | "ЗАПИСАНО" | "REGISTRO" => "LOG",
        "ПОДРОБНОСТИ" | "ДЕТАЛІ" | "DÉTAIL" | "DETALLE" | "DETTAGLI" | "SZCZEGÓŁY" => {
            "DETAIL"
        }
        "ПОДСКАЗКА" | "ПІДКАЗКА" | "TIPP" | "ASTUCE" | "SUGERENCIA" | "SUGGERIMENTO" => {
            "HINT"
        }
        "КОНТЕКСТ" | "ZUSAMMENHANG" | "CONTEXTE" | "CONTEXTO" | "CONTESTO" => "CONTEXT",
        "ПОЛОЖЕНИЕ" | "ORT" | "EMPLACEMENT" | "UBICACIÓN" => "LOCATION",
        other => other,
    }
}

/// Whether a chunk of a message through syslog opens one of its secondary lines: the
/// prefix (short, no blank first) and a `STATEMENT:`, `DETAIL:`, `HINT:`, `CONTEXT:`,
/// `QUERY:` or `LOCATION:` severity (or a translation of one). A chunk cut from a long
/// line starts with its blank, one of a multi-line text with a TAB (`#011`).
pub(super) fn secondary_line(chunk: &str) -> bool {
    if chunk.starts_with([' ', '\t']) || chunk.starts_with("#011") {
        return false;
    }
    SEVERITY_ANYWHERE.find(chunk).is_some_and(|m| {
        let sev = chunk[m.start()..m.end()].trim_end().trim_end_matches(':');
        m.start() <= 160
            && matches!(
                english_severity(sev),
                "STATEMENT" | "DETAIL" | "HINT" | "CONTEXT" | "QUERY" | "LOCATION"
            )
    })
}

/// Interprets a PostgreSQL message (shared by stderr, csvlog and jsonlog) and its
/// detail, where the log keeps it with the message.
fn message(mut e: Event, sev: &str, msg: &str, detail: Option<&str>, ctx: &FileCtx) -> Parsed {
    e.extra.insert("severity", sev);
    let sev = english_severity(sev);
    if let Some(body) = msg.strip_prefix("AUDIT: ") {
        e.outcome = Outcome::Success;
        return match apply_audit(&mut e, body, ctx) {
            Ok(()) => Parsed::Event(Box::new(e)),
            Err(r) => Parsed::Reject(r),
        };
    }
    let kv = |e: &mut Event, text: &str| {
        for c in KV.captures_iter(text) {
            let v = c[2].trim_end_matches(',').to_string();
            match &c[1] {
                "user" => {
                    e.db_user.get_or_insert(v.into());
                }
                "database" => {
                    e.db_name.get_or_insert(v.into());
                }
                "host" => {
                    e.db_host.get_or_insert(v.into());
                }
                "application_name" => {
                    e.extra.insert("application_name", v);
                }
                k => {
                    e.extra.insert(k, v);
                }
            }
        }
    };
    if let Some(rest) = msg.strip_prefix("connection authorized: ") {
        e.command = Some("connection authorized".into());
        e.stmt_class = Some(StmtClass::Other);
        e.outcome = Outcome::Success;
        kv(&mut e, rest);
    } else if let Some(rest) = msg.strip_prefix("connection received: ") {
        e.command = Some("connection received".into());
        e.stmt_class = Some(StmtClass::Other);
        kv(&mut e, rest);
    } else if let Some(c) = AUTH_FAIL.captures(msg) {
        e.command = Some("authentication failed".into());
        e.stmt_class = Some(StmtClass::Other);
        e.outcome = Outcome::Failure;
        e.db_user = Some(c[1].into());
    } else if let Some(rest) = msg.strip_prefix("disconnection: ") {
        e.command = Some("disconnection".into());
        e.stmt_class = Some(StmtClass::Other);
        if let Some(t) = rest
            .strip_prefix("session time: ")
            .and_then(|r| r.split_whitespace().next())
        {
            e.extra.insert("session_time", t);
        }
        kv(&mut e, rest);
    } else if sev == "STATEMENT" {
        e.statement = Some(msg.into());
        e.outcome = Outcome::Failure;
        apply_sql(&mut e, Dialect::Postgres, ctx);
    } else if let Some(logged) = pg_statement::logged(msg) {
        let (sql, name, duration_ms, by) = match logged {
            Logged::Run {
                sql,
                name,
                duration_ms,
                by,
            } => (sql, name, duration_ms, by),
            Logged::Step(why) => return Parsed::Skip(why),
        };
        e.statement = Some(sql.into());
        e.params = detail
            .and_then(pg_statement::parameters)
            .map(thin_vec::ThinVec::from);
        e.extra.insert("logged_by", by);
        if let Some(n) = name {
            e.extra.insert("prepared_statement", n);
        }
        if let Some(d) = duration_ms {
            e.extra.insert("duration_ms", d);
        }
        e.outcome = Outcome::Success;
        apply_sql(&mut e, Dialect::Postgres, ctx);
    } else if matches!(sev, "ERROR" | "FATAL" | "PANIC") {
        e.command = Some(format!("{} {}", sev.to_ascii_lowercase(), first_words(msg)).into());
        e.stmt_class = Some(StmtClass::Other);
        e.outcome = Outcome::Failure;
        e.extra.insert("message", msg);
    } else if matches!(sev, "DETAIL" | "HINT" | "CONTEXT" | "LOCATION") {
        return Parsed::Skip("error detail line");
    } else {
        return Parsed::Skip("server message without evidence value");
    }
    Parsed::Event(Box::new(e))
}

fn first_words(m: &str) -> String {
    m.split_whitespace().take(4).collect::<Vec<_>>().join(" ")
}

/// csvlog.
pub struct CsvLog;

impl Parser for CsvLog {
    fn name(&self) -> &'static str {
        "pg-csvlog"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Db
    }
    fn detection(&self) -> &'static str {
        "CSV records starting with a PostgreSQL timestamp, 22–26 columns, session id `hex.hex` in column 6"
    }
    fn example(&self) -> &'static str {
        "2024-03-05 14:22:01.123 UTC,\"svc\",\"orders\",12345,\"203.0.113.45:53112\",65e72a1c.3039,7,\"SELECT\",…,LOG,00000,\"AUDIT: SESSION,…\",…"
    }
    fn framing(&self) -> Framing {
        Framing::Csv
    }
    fn sniff(&self, head: &Head) -> u8 {
        static RE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r#"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [A-Za-z+0-9:-]+,("[^"]*"|[^,]*),("[^"]*"|[^,]*),\d*,("[^"]*"|[^,]*),[0-9a-f]+\.[0-9a-f]+,"#)
                .expect("static regex")
        });
        if head.lines.first().is_some_and(|l| RE.is_match(l)) {
            95
        } else {
            0
        }
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        let Some(f) = csv_split(rec) else {
            return Parsed::Reject("unparseable CSV record".into());
        };
        if f.len() < 14 {
            return Parsed::Reject(format!("{} columns, expected 22–26", f.len()));
        }
        let mut e = Event::new(SourceKind::Db, self.name());
        match parse_iso(&f[0], &ctx.opts.assume_tz) {
            Some(p) => {
                e.ts = p.us;
                e.tz_assumed = p.assumed;
            }
            None => return Parsed::Reject(format!("bad log_time {:?}", f[0])),
        }
        e.db_user = present(&f[1]);
        e.db_name = present(&f[2]);
        e.extra.insert("pid", &*f[3]);
        e.db_host = present(&f[4]).map(|h| match h.rsplit_once(':') {
            Some((a, p)) if p.bytes().all(|b| b.is_ascii_digit()) => text(a),
            _ => h,
        });
        e.session_id = present(&f[5]);
        if let Some(app) = f.get(22).and_then(|a| present(a)) {
            e.extra.insert("application_name", app);
        }
        let sev = f[11].clone();
        let msg = f[13].clone();
        let query = f.get(19).cloned().unwrap_or_default();
        match message(e, &sev, &msg, f.get(14).map(|d| &**d), ctx) {
            Parsed::Event(mut ev) if english_severity(&sev) == "ERROR" && !query.is_empty() => {
                ev.statement = Some(query.into());
                apply_sql(&mut ev, Dialect::Postgres, ctx);
                Parsed::Event(ev)
            }
            other => other,
        }
    }
}

/// jsonlog (PostgreSQL 15+).
pub struct JsonLog;

impl Parser for JsonLog {
    fn name(&self) -> &'static str {
        "pg-jsonlog"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Db
    }
    fn detection(&self) -> &'static str {
        "JSON lines with timestamp, error_severity, session_id / backend_type"
    }
    fn example(&self) -> &'static str {
        r#"{"timestamp":"2024-03-05 14:22:01.123 UTC","user":"svc","dbname":"orders","pid":12345,"remote_host":"203.0.113.45","session_id":"65e72a1c.3039","error_severity":"LOG","message":"AUDIT: SESSION,…"}"#
    }
    fn sniff(&self, head: &Head) -> u8 {
        line_score(head, |l| {
            l.starts_with('{') && l.contains("\"error_severity\"") && l.contains("\"timestamp\"")
        })
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        let v = match object(rec) {
            Ok(v) => v,
            Err(e) => return Parsed::Reject(e),
        };
        let mut e = Event::new(SourceKind::Db, self.name());
        let Some(p) = s(&v, "timestamp").and_then(|t| parse_iso(&t, &ctx.opts.assume_tz)) else {
            return Parsed::Reject("bad or missing timestamp".into());
        };
        e.ts = p.us;
        e.tz_assumed = p.assumed;
        e.db_user = s(&v, "user");
        e.db_name = s(&v, "dbname");
        e.db_host = s(&v, "remote_host");
        e.session_id = s(&v, "session_id");
        if let Some(pid) = u(&v, "pid") {
            e.extra.insert("pid", pid.to_string());
        }
        if let Some(a) = s(&v, "application_name") {
            e.extra.insert("application_name", a);
        }
        let sev = s(&v, "error_severity").unwrap_or_default();
        let msg = s(&v, "message").unwrap_or_default();
        let stmt = s(&v, "statement");
        let detail = s(&v, "detail");
        match message(e, &sev, &msg, detail.as_deref(), ctx) {
            Parsed::Event(mut ev) if english_severity(&sev) == "ERROR" && stmt.is_some() => {
                ev.statement = stmt;
                apply_sql(&mut ev, Dialect::Postgres, ctx);
                Parsed::Event(ev)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeparse::fmt_utc;

    fn ctx_for(lines: &str) -> FileCtx {
        let mut ctx = FileCtx::default();
        Stderr
            .prepare(&mut ctx, &super::super::head_of(lines))
            .unwrap();
        ctx
    }

    fn ev(p: &dyn Parser, ctx: &FileCtx, l: &str) -> Event {
        match p.parse(l, ctx) {
            Parsed::Event(e) => *e,
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn stderr_default_prefix_with_zone_abbreviation_and_continuation() {
        let l = "2025-11-04 10:23:10.004 EET [12345] svc_reporting@orders LOG:  AUDIT: SESSION,6,1,READ,COPY,TABLE,public.customers,\"COPY (SELECT id, email, phone\n\tFROM customers) TO STDOUT WITH CSV\",<not logged>";
        let ctx = ctx_for(l);
        assert_eq!(ctx.pg_prefix.as_ref().unwrap().template, "%m [%p] %q%u@%d ");
        let e = ev(&Stderr, &ctx, l);
        assert_eq!(fmt_utc(e.ts), "2025-11-04T08:23:10.004000Z");
        assert_eq!(e.db_user.as_deref(), Some("svc_reporting"));
        assert_eq!(e.command.as_deref(), Some("COPY"));
        assert!(e.statement.as_deref().unwrap().contains("phone\nFROM"));
        assert!(e.sql.unwrap().whole_table_read);
    }

    #[test]
    fn stderr_zone_printed_as_an_offset() {
        // Zones without letters in tzdata (Istanbul, Sao Paulo, Dubai) print `+03`.
        for (l, want) in [
            ("2025-11-04 10:23:10.004 +03 [12345] app@orders LOG:  AUDIT: SESSION,6,1,READ,SELECT,TABLE,public.customers,\"SELECT 1\",<none>", "2025-11-04T07:23:10.004000Z"),
            ("2025-11-04 10:23:10 -03 [12345]: [3-1] user=app,db=orders,app=psql,client=10.0.0.5 LOG:  AUDIT: SESSION,6,1,READ,SELECT,TABLE,public.customers,\"SELECT 1\",<none>", "2025-11-04T13:23:10Z"),
        ] {
            let ctx = ctx_for(l);
            assert!(ctx.pg_prefix.is_some(), "{l}");
            assert_eq!(fmt_utc(ev(&Stderr, &ctx, l).ts).replace(".000000Z", "Z"), want);
        }
    }

    #[test]
    fn stderr_with_translated_severities() {
        // lc_messages ru_RU / de_DE: the severity is translated, pgaudit's text is not.
        let lines = [
            "2025-11-04 10:23:10.004 MSK [12345] app@orders СООБЩЕНИЕ:  AUDIT: SESSION,6,1,READ,SELECT,TABLE,public.customers,\"SELECT id, email FROM customers\",<not logged>",
            "2025-11-04 10:23:11.004 MSK [12345] app@orders ОШИБКА:  отношение \"custmers\" не существует",
            "2025-11-04 10:23:11.004 MSK [12345] app@orders ОПЕРАТОР:  SELECT * FROM custmers",
            "2025-11-04 10:23:12.004 MSK [12346] app@orders ПОДРОБНОСТИ:  что-то",
        ];
        let ctx = ctx_for(&lines.join("\n"));
        assert!(Stderr.sniff(&crate::ingest::head_of(&lines.join("\n"))) >= 50);
        let e = ev(&Stderr, &ctx, lines[0]);
        assert_eq!(e.command.as_deref(), Some("SELECT"));
        assert!(e.sql.unwrap().whole_table_read);
        assert_eq!(e.extra["severity"], "СООБЩЕНИЕ");
        assert_eq!(ev(&Stderr, &ctx, lines[1]).outcome, Outcome::Failure);
        let st = ev(&Stderr, &ctx, lines[2]);
        assert_eq!(st.statement.as_deref(), Some("SELECT * FROM custmers"));
        assert_eq!(st.outcome, Outcome::Failure);
        assert!(matches!(Stderr.parse(lines[3], &ctx), Parsed::Skip(_)));
        let de = "2025-11-04 10:23:10.004 CET [12345] app@orders FEHLER:  Relation »custmers« existiert nicht";
        assert_eq!(ev(&Stderr, &ctx_for(de), de).outcome, Outcome::Failure);
    }

    #[test]
    fn stderr_rds_prefix_and_auth_lines() {
        let l = "2024-03-05 14:25:00 UTC:203.0.113.45(53112):attacker@orders:[23456]:LOG:  AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,CREATE ROLE backdoor LOGIN SUPERUSER PASSWORD 'x',<not logged>";
        let ctx = ctx_for(l);
        let e = ev(&Stderr, &ctx, l);
        assert_eq!(e.db_host.as_deref(), Some("203.0.113.45"));
        assert_eq!(e.stmt_class, Some(StmtClass::Role));
        let f = "2024-03-05 14:25:01 UTC:203.0.113.45(53113):postgres@orders:[23457]:FATAL:  password authentication failed for user \"postgres\"";
        let e = ev(&Stderr, &ctx, f);
        assert_eq!(e.outcome, Outcome::Failure);
        assert_eq!(e.command.as_deref(), Some("authentication failed"));
        let junk = "this is not a postgres line";
        assert!(matches!(Stderr.parse(junk, &ctx), Parsed::Reject(_)));
        let ck = "2024-03-05 14:25:01 UTC::@:[99]:LOG:  checkpoint starting: time";
        assert!(matches!(Stderr.parse(ck, &ctx), Parsed::Skip(_)));
    }

    #[test]
    fn user_given_prefix() {
        let mut ctx = FileCtx::default();
        let o = super::super::ParseOpts {
            pg_prefix: Some("%n|%u|%d|%p| ".into()),
            ..Default::default()
        };
        ctx.opts = Arc::new(o);
        Stderr
            .prepare(&mut ctx, &super::super::head_of(""))
            .unwrap();
        let e = ev(
            &Stderr,
            &ctx,
            "1709648521.123|app|orders|77| LOG:  statement: SELECT 1",
        );
        assert_eq!(e.ts, 1_709_648_521_123_000);
    }

    #[test]
    fn csvlog_nested_csv() {
        let l = r#"2024-03-05 14:22:01.123 UTC,"svc_reporting","orders",12345,"203.0.113.45:53112",65e72a1c.3039,7,"SELECT",2024-03-05 14:20:12 UTC,3/1042,0,LOG,00000,"AUDIT: SESSION,5,1,READ,SELECT,TABLE,public.customers,""SELECT id, email, phone FROM customers WHERE id = $1"",""100234""",,,,,,,,,"psql","client backend",,0"#;
        let e = ev(&CsvLog, &FileCtx::default(), l);
        assert_eq!(e.db_host.as_deref(), Some("203.0.113.45"));
        assert_eq!(e.session_id.as_deref(), Some("65e72a1c.3039"));
        assert_eq!(*e.sql.as_ref().unwrap().account_ids, ["100234"]);
        assert_eq!(e.extra["application_name"], "psql");
        // The address without its port repeats in every statement of the host's
        // connections: shared, as the other short values are.
        let once = ev(&CsvLog, &FileCtx::default(), l);
        let again = ev(&CsvLog, &FileCtx::default(), l);
        assert!(crate::model::Text::ptr_eq(
            once.db_host.as_ref().unwrap(),
            again.db_host.as_ref().unwrap()
        ));
        assert!(matches!(
            CsvLog.parse("2024-03-05,broken", &FileCtx::default()),
            Parsed::Reject(_)
        ));
    }

    #[test]
    fn jsonlog() {
        let l = r#"{"timestamp":"2024-03-05 14:22:01.123 UTC","user":"svc_reporting","dbname":"orders","pid":12345,"remote_host":"203.0.113.45","remote_port":53112,"session_id":"65e72a1c.3039","line_num":7,"ps":"SELECT","error_severity":"LOG","state_code":"00000","message":"AUDIT: SESSION,5,1,READ,SELECT,TABLE,public.customers,\"SELECT id, email, phone FROM customers\",<not logged>","application_name":"psql","backend_type":"client backend","query_id":0}"#;
        let e = ev(&JsonLog, &FileCtx::default(), l);
        assert!(e.sql.unwrap().whole_table_read);
        assert_eq!(e.db_host.as_deref(), Some("203.0.113.45"));
    }
}
