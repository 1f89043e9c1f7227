//! `breachline simulate`: writes a realistic two-wave incident (modelled on
//! docs/incident.md) as evidence in any supported format, a roster, and `truth.json` with
//! the answers — for rehearsal, tests and benchmarks. Deterministic for a seed.

mod applog;
mod attack;
mod db;
mod dialect;
mod gen;
mod gw;
mod noise;
mod out;
mod percona;
mod push;
mod rng;
mod scenario;
mod syslog;
mod techniques;

use out::{cut_head, cut_line, garbage, FileTruth, OutFile, Rotated};
use scenario::{World, D, M};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use db::FORMATS as DB_FORMATS;
pub use gw::FORMATS as GATEWAY_FORMATS;
pub use push::FORMATS as PUSH_FORMATS;

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimOpts {
    /// Output directory.
    pub out_dir: PathBuf,
    /// Seed.
    pub seed: u64,
    /// Background volume multiplier.
    pub scale: f64,
    /// Gateway formats to write.
    pub gateway: Vec<String>,
    /// DB formats to write.
    pub db: Vec<String>,
    /// Push formats to write.
    pub push: Vec<String>,
    /// UTC midnight of the first day, µs.
    pub start: i64,
    /// DB server clock skew, µs.
    pub db_skew: i64,
    /// The servers' local zone.
    pub tz: chrono_tz::Tz,
    /// The push worker's clock skew, µs (its send logs; providers keep their own clock).
    pub push_skew: i64,
    /// The clock skew of every gateway format after the first, µs.
    pub gateway_skew: i64,
    /// The application does not tag statements with request ids.
    pub untagged_sql: bool,
    /// Routes, tables and columns in another application's vocabulary.
    pub dialect: bool,
    /// Routes, tables and columns in a vocabulary drawn from this seed (over `dialect`).
    pub random_names: Option<u64>,
    /// PostgreSQL stderr and MariaDB audit records written through syslog.
    pub db_syslog: bool,
    /// Wave 1's stuffing spread over this many addresses (0: three addresses).
    pub proxy_pool: u32,
    /// When the waves begin, µs after the attack day's UTC midnight (default: 03:05:17
    /// and 09:41:03).
    pub attack_at: Option<(i64, i64)>,
    /// Staff refund the drained accounts and credit goodwill points the next morning.
    pub compensation: bool,
    /// Internet background noise on every day: scanners, a password-spraying bot, an
    /// uptime monitor, a menu scraper.
    pub noise: bool,
    /// Customers whose own address is one of wave 1's (a carrier's CGNAT exit, a
    /// residential proxy on a customer's network).
    pub shared_address: u32,
    /// Wave 1 drains accounts through an insecure direct object reference from the
    /// attacker's own account instead of stuffing credentials.
    pub idor: bool,
    /// Wave 1 replays customers' stolen session tokens instead of signing in.
    pub hijack: bool,
    /// Wave 2 dumps the customer table through SQL injection on the public menu search
    /// instead of enumerating and exporting it as staff.
    pub injection: bool,
    /// Wave 2 connects to the database directly with a service's leaked password.
    pub direct: bool,
}

/// What was written.
#[derive(Debug, Default)]
pub struct SimSummary {
    /// Files and their counts.
    pub files: Vec<FileTruth>,
    /// Bytes written.
    pub bytes: u64,
}

fn day_name(start: i64, day: u32) -> String {
    chrono::DateTime::from_timestamp_micros(start + day as i64 * D)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

fn gateway_out(o: &SimOpts, fmt: &str, days: u32) -> Rotated {
    let root = o.out_dir.join("gateway").join(fmt);
    let f = fmt.to_string();
    let name: Box<dyn Fn(u32, u32) -> (String, bool) + Send + Sync> = Box::new(move |_d, age| {
        let base = if f.starts_with("apigw") {
            "api-access.log"
        } else {
            "access.log"
        };
        match age {
            0 => (base.to_string(), false),
            a => (format!("{base}.{a}.gz"), true),
        }
    });
    let breaker = if fmt.contains("json") || fmt == "apigw-xml" {
        cut_line
    } else if fmt == "kong" {
        garbage
    } else {
        cut_head
    };
    let mut r = Rotated::new(&root, days, o.seed ^ 0x6777, name, breaker);
    r.fast = o.scale > 1.0;
    r
}

fn db_out(o: &SimOpts, fmt: &str, days: u32) -> Rotated {
    let root = o.out_dir.join("db").join(fmt);
    let f = fmt.to_string();
    let start = o.start;
    let name: Box<dyn Fn(u32, u32) -> (String, bool) + Send + Sync> = Box::new(move |d, age| {
        let date = day_name(start, d);
        let (stem, ext) = match f.as_str() {
            "pg-stderr" | "pg-stderr-default" | "pg-stderr-execute" => {
                (format!("postgresql-{date}"), "log")
            }
            "pg-csvlog" => (format!("postgresql-{date}"), "csv"),
            "pg-jsonlog" => (format!("postgresql-{date}"), "json"),
            "mysql-audit-json" => (format!("audit.{date}"), "log"),
            "percona-audit-json" | "percona-audit-csv" | "mysql-audit-xml" => {
                (format!("audit-{date}"), "log")
            }
            "rds-activity-stream" => (format!("activity-{date}"), "json"),
            _ => (format!("server_audit-{date}"), "log"),
        };
        (
            format!("{stem}.{ext}{}", if age >= 1 { ".gz" } else { "" }),
            age >= 1,
        )
    });
    let breaker = match fmt {
        "pg-stderr" | "pg-stderr-default" | "pg-stderr-execute" | "mariadb-audit" => cut_head,
        "pg-jsonlog" | "percona-audit-json" | "mysql-audit-xml" => cut_line,
        _ => garbage,
    };
    let mut r = Rotated::new(&root, days, o.seed ^ 0xdb, name, breaker);
    r.fast = o.scale > 1.0;
    if fmt == "mysql-audit-json" {
        r.preamble = Some(("[\n".into(), false));
        r.postamble = Some("]\n".into());
    }
    if fmt == "mysql-audit-xml" {
        r.preamble = Some((
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AUDIT>\n".into(),
            false,
        ));
        r.postamble = Some("</AUDIT>\n".into());
    }
    r
}

fn push_out(o: &SimOpts, fmt: &str, days: u32) -> Rotated {
    let root = o.out_dir.join("push").join(fmt);
    let f = fmt.to_string();
    let start = o.start;
    let name: Box<dyn Fn(u32, u32) -> (String, bool) + Send + Sync> = Box::new(move |d, age| {
        let date = day_name(start, d).replace('-', "");
        match f.as_str() {
            "fcm-bigquery-csv" => (
                format!(
                    "firebase_messaging-{date}.csv{}",
                    if age >= 1 { ".gz" } else { "" }
                ),
                age >= 1,
            ),
            "sns-delivery" => (
                format!(
                    "sns-delivery-{date}.log{}",
                    if age >= 1 { ".gz" } else { "" }
                ),
                age >= 1,
            ),
            "fcm-v1-log" | "expo-push-log" => (
                format!(
                    "push-worker.log{}",
                    if age >= 1 {
                        format!(".{age}.gz")
                    } else {
                        String::new()
                    }
                ),
                age >= 1,
            ),
            _ => (
                format!(
                    "firebase_messaging-{date}.json{}",
                    if age >= 1 { ".gz" } else { "" }
                ),
                age >= 1,
            ),
        }
    });
    let mut r = Rotated::new(
        &root,
        days,
        o.seed ^ 0x9054,
        name,
        if fmt.ends_with("csv") {
            garbage
        } else {
            cut_line
        },
    );
    r.fast = o.scale > 1.0;
    if fmt == "fcm-bigquery-csv" {
        r.preamble = Some((push::FCM_COLUMNS.join(","), true));
    }
    r
}

/// A backend that logs its FCM sends (`fcm-v1-log`) sends to tokens, not to a topic: the
/// BigQuery rows then carry one message id per device.
fn fcm_per_token(o: &SimOpts) -> bool {
    o.push.iter().any(|p| p == "fcm-v1-log")
}

/// Runs the simulator.
pub fn run(o: &SimOpts) -> std::io::Result<SimSummary> {
    std::fs::create_dir_all(&o.out_dir)?;
    let mut world = World::new(o.seed, o.start, o.scale);
    world.tagged = !o.untagged_sql;
    world.names = match (o.random_names, o.dialect) {
        (Some(seed), _) => dialect::Names::Drawn(Box::new(dialect::Drawn::new(seed))),
        (None, true) => dialect::Names::Other,
        (None, false) => dialect::Names::Sample,
    };
    world.compensation = o.compensation;
    world.idor = o.idor;
    world.hijack = o.hijack;
    world.injection = o.injection;
    world.direct = o.direct;
    world.noise = o.noise.then_some(o.seed ^ 0x006E_6F69_7365);
    if let Some(at) = o.attack_at {
        world.attack_at = at;
    }
    if o.proxy_pool > 0 {
        // Public-looking addresses (198.18.0.0/15, set aside for benchmarks), a block
        // per seed.
        world.stuffing_ips = (0..o.proxy_pool)
            .map(|i| format!("198.18.{}.{}", (o.seed % 200) as u32 + i / 250, i % 250 + 1))
            .collect();
    }
    // Spread over the roster, so that some are around during the wave.
    let n = world.customers.len();
    for k in 0..o.shared_address as usize {
        let i = (k * 7919 + 13) % n;
        if !world.attacker_owned.contains(&i) {
            world.customers[i].ip = world.stuffing_ips[k % world.stuffing_ips.len()].clone();
        }
    }
    let days = world.days;
    let clock = db::Clock {
        tz: o.tz,
        skew: o.db_skew,
        xml_style: (o.seed % 3) as u8,
        timed: (o.seed / 3) % 2 == 1,
    };
    let mut gws: Vec<(String, Rotated)> = o
        .gateway
        .iter()
        .map(|f| (f.clone(), gateway_out(o, f, days)))
        .collect();
    let mut dbs: Vec<(String, Rotated)> =
        o.db.iter()
            .map(|f| (f.clone(), db_out(o, f, days)))
            .collect();
    let mut pushes: Vec<(String, Rotated)> = o
        .push
        .iter()
        .filter(|f| *f != "onesignal")
        .map(|f| (f.clone(), push_out(o, f, days)))
        .collect();
    let mut all_msgs = Vec::new();
    let mut bonus: BTreeMap<usize, i64> = BTreeMap::new();
    let mut enumerated: BTreeSet<usize> = BTreeSet::new();
    let mut exports = Vec::new();
    let mut waves: BTreeMap<u8, (i64, i64)> = BTreeMap::new();
    let mut dup_pairs: Vec<(String, String, u64)> = Vec::new();
    let mut stmt_no: u64 = 0;
    let mut wave_span = |w: u8, t: i64| {
        let e = waves.entry(w).or_insert((t, t));
        e.0 = e.0.min(t);
        e.1 = e.1.max(t);
    };
    for d in 0..days {
        let mut g = gen::Gen::new(&mut world, o.seed, d);
        g.run(d);
        let day = std::mem::take(&mut g.day);
        for (c, delta, _) in g.bonus_truth.drain(..) {
            *bonus.entry(c).or_default() += delta;
        }
        enumerated.extend(g.enumerated.iter().map(|(c, _)| *c));
        exports.append(&mut g.exports);
        for r in &day.reqs {
            if r.wave > 0 {
                wave_span(r.wave, r.ts);
            }
        }
        for s in &day.stmts {
            if s.wave > 0 {
                wave_span(s.wave, s.ts);
            }
        }
        let tz = o.tz;
        let local_off = move |us: i64| {
            use chrono::{Offset, TimeZone};
            let t = chrono::DateTime::from_timestamp_micros(us).unwrap_or_default();
            tz.offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc()
        };
        // The three sources are written in parallel; each writer owns its files and RNG,
        // so the output does not depend on thread timing.
        let stmt_base = stmt_no;
        let customers = &world.customers;
        let clock_ref = &clock;
        let per_token = fcm_per_token(o);
        let push_skew = o.push_skew;
        let gateway_skew = o.gateway_skew;
        let (r_gw, (r_db, r_push)) = rayon::join(
            || -> std::io::Result<Vec<(String, String, u64)>> {
                let mut pairs = Vec::new();
                for (layer, (fmt, rot)) in gws.iter_mut().enumerate() {
                    let skew = if layer > 0 { gateway_skew } else { 0 };
                    for (i, r) in day.reqs.iter().enumerate() {
                        let line = if skew == 0 {
                            gw::line(fmt, r, local_off(r.ts))
                        } else {
                            let mut r = r.clone();
                            r.ts += skew;
                            gw::line(fmt, &r, local_off(r.ts))
                        };
                        // Overlapping rotation: the first records of a day also end the previous file.
                        if d > 0 && i < 25 {
                            rot.write_dup(d - 1, &line)?;
                            pairs.push((rot.rel(d - 1), rot.rel(d), 1));
                        }
                        rot.write(d, &line)?;
                    }
                }
                Ok(pairs)
            },
            || {
                rayon::join(
                    || -> std::io::Result<()> {
                        for (fmt, rot) in dbs.iter_mut() {
                            let mut n = stmt_base;
                            for s in &day.stmts {
                                n += 1;
                                if fmt == "rds-activity-stream" && n % 97 == 0 {
                                    rot.file(d)?.header(&db::activity_heartbeat())?;
                                }
                                let rec = db::record(fmt, s, clock_ref, n);
                                if o.db_syslog && syslog::applies(fmt) {
                                    let iso = o.seed % 2 == 1;
                                    if n % 401 == 0 {
                                        rot.file(d)?.header(&syslog::chatter(s, clock_ref, iso))?;
                                    }
                                    let timeless = o.seed % 4 >= 2;
                                    rot.write(
                                        d,
                                        &syslog::wrap(fmt, &rec, s, clock_ref, n, (iso, timeless)),
                                    )?;
                                } else {
                                    for r in rec.split(db::RECORDS) {
                                        match r.strip_prefix(db::SKIPPED) {
                                            Some(r) => rot.file(d)?.header(r)?,
                                            None => rot.write(d, r)?,
                                        }
                                    }
                                }
                            }
                        }
                        Ok(())
                    },
                    || -> std::io::Result<()> {
                        for m in &day.msgs {
                            for (fmt, rot) in pushes.iter_mut() {
                                match fmt.as_str() {
                                    "sns-delivery" => {
                                        for (_, l) in push::sns_rows(m, customers) {
                                            rot.write(d, &l)?;
                                        }
                                    }
                                    "fcm-v1-log" => {
                                        for (_, l) in applog::fcm_lines(m, customers, push_skew) {
                                            rot.write(d, &l)?;
                                        }
                                    }
                                    "expo-push-log" => {
                                        for (_, l) in applog::expo_lines(m, customers, push_skew) {
                                            rot.write(d, &l)?;
                                        }
                                    }
                                    f => {
                                        for (_, row) in push::fcm_rows(m, customers, per_token) {
                                            let l = if f == "fcm-bigquery-csv" {
                                                push::fcm_csv(&row)
                                            } else {
                                                push::fcm_json(&row)
                                            };
                                            rot.write(d, &l)?;
                                        }
                                    }
                                }
                            }
                        }
                        Ok(())
                    },
                )
            },
        );
        dup_pairs.extend(r_gw?);
        r_db?;
        r_push?;
        stmt_no += day.stmts.len() as u64;
        for m in &day.msgs {
            if m.wave > 0 {
                // The last record each format writes of the message (a send log ends
                // with its last batch; Expo's receipts are the backend's later poll).
                let last = o
                    .push
                    .iter()
                    .map(|p| match p.as_str() {
                        "sns-delivery" => m.ts,
                        "fcm-v1-log" => applog::fcm_lines(m, &world.customers, o.push_skew)
                            .last()
                            .map_or(m.ts, |x| x.0),
                        "expo-push-log" => {
                            let batches = m.deliveries.len().div_ceil(100).max(1);
                            m.ts + (batches - 1) as i64 * 35_000
                        }
                        _ => m.deliveries.iter().map(|x| x.ts).max().unwrap_or(m.ts),
                    })
                    .max()
                    .unwrap_or(m.ts);
                wave_span(m.wave, m.ts);
                wave_span(m.wave, last);
            }
        }
        all_msgs.extend(day.msgs);
    }
    let mut files: Vec<FileTruth> = Vec::new();
    for (fmt, rot) in gws.into_iter().chain(dbs).chain(pushes) {
        let kind = if GATEWAY_FORMATS.contains(&fmt.as_str()) {
            "gateway"
        } else if DB_FORMATS.contains(&fmt.as_str()) {
            "db"
        } else {
            "push"
        };
        for mut t in rot.finish()? {
            t.path = format!("{kind}/{fmt}/{}", t.path);
            files.push(t);
        }
    }
    // Duplicates are counted in whichever file of a pair sorts later.
    for (a, b, n) in dup_pairs {
        let later = a.clone().max(b.clone());
        for f in files.iter_mut() {
            if f.path.ends_with(&format!("/{later}"))
                && (f.path.contains(&a) || f.path.contains(&b))
            {
                f.duplicates += n;
            }
        }
    }
    if o.push.iter().any(|p| p == "onesignal") {
        files.extend(write_onesignal(o, &all_msgs, &world)?);
    }
    files.push(write_roster(o, &world)?);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    write_truth(
        o,
        &world,
        &files,
        &all_msgs,
        &bonus,
        &enumerated,
        &exports,
        &waves,
    )?;
    let bytes = files
        .iter()
        .filter_map(|f| std::fs::metadata(o.out_dir.join(&f.path)).ok())
        .map(|m| m.len())
        .sum();
    Ok(SimSummary { files, bytes })
}

fn write_onesignal(
    o: &SimOpts,
    msgs: &[scenario::Msg],
    w: &World,
) -> std::io::Result<Vec<FileTruth>> {
    let mut out = Vec::new();
    let page = json!({
        "total_count": msgs.len(), "offset": 0, "limit": 50,
        "notifications": msgs.iter().rev().map(push::onesignal).collect::<Vec<_>>()
    });
    let mut f = OutFile::create(
        &o.out_dir,
        "push/onesignal/notifications.json",
        false,
        false,
    )?;
    f.raw(&serde_json::to_string_pretty(&page).unwrap_or_default())?;
    f.raw("\n")?;
    let mut t = f.finish()?;
    t.records = msgs.len() as u64;
    out.push(t);
    for m in msgs.iter().filter(|m| m.topic == "all") {
        let rel = format!(
            "push/onesignal/events_audience-activity-{}-push-{}.csv.gz",
            m.onesignal_id,
            m.ts / 1_000_000 + 3600
        );
        let mut f = OutFile::create(&o.out_dir, &rel, true, o.scale > 1.0)?;
        f.header(push::AUDIENCE_HEADER)?;
        for r in push::audience_rows(m, &w.customers) {
            f.record(&r)?;
        }
        out.push(f.finish()?);
    }
    Ok(out)
}

fn write_roster(o: &SimOpts, w: &World) -> std::io::Result<FileTruth> {
    let mut f = OutFile::create(&o.out_dir, "roster.csv", false, false)?;
    f.header("account_id,created_at,name,email,phone,external_id,device_ids")?;
    let expo = o.push.iter().any(|p| p == "expo-push-log");
    for c in &w.customers {
        let devs: Vec<String> = c
            .devices
            .iter()
            .flat_map(|d| {
                let mut v = vec![d.fcm.clone(), d.sns.clone(), d.onesignal.clone()];
                if expo {
                    v.push(applog::expo_token(d));
                }
                v
            })
            .collect();
        f.record(&format!(
            "{},{},{},{},{},{},{}",
            c.id,
            crate::timeparse::fmt_utc_s(c.created),
            c.name,
            c.email,
            c.phone,
            c.id,
            devs.join(";")
        ))?;
    }
    f.finish()
}

#[allow(clippy::too_many_arguments)]
fn write_truth(
    o: &SimOpts,
    w: &World,
    files: &[FileTruth],
    msgs: &[scenario::Msg],
    bonus: &BTreeMap<usize, i64>,
    enumerated: &BTreeSet<usize>,
    exports: &[(i64, u8)],
    waves: &BTreeMap<u8, (i64, i64)>,
) -> std::io::Result<()> {
    let id = |i: &usize| w.customers[*i].id.clone();
    let mut exposed: BTreeSet<String> = enumerated.iter().map(id).collect();
    for (t, _) in exports {
        exposed.extend(
            w.customers
                .iter()
                .filter(|c| c.created < *t)
                .map(|c| c.id.clone()),
        );
    }
    let mut pushed: BTreeSet<String> = BTreeSet::new();
    for m in msgs.iter().filter(|m| m.wave > 0) {
        pushed.extend(
            m.deliveries
                .iter()
                .filter(|d| d.ok)
                .map(|d| w.customers[d.cust].id.clone()),
        );
    }
    let ids = |m: &scenario::Msg| {
        let mut v = Vec::new();
        for p in &o.push {
            match p.as_str() {
                "onesignal" => v.push(m.onesignal_id.clone()),
                "sns-delivery" => v.push(m.sns_id.clone()),
                "fcm-v1-log" | "expo-push-log" => v.extend(applog::first_id(p, m)),
                f if f.starts_with("fcm") && fcm_per_token(o) => {
                    v.extend(applog::first_id("fcm-v1-log", m))
                }
                _ => v.push(m.fcm_id.clone()),
            }
        }
        v.sort();
        v.dedup();
        v
    };
    let fmt = crate::timeparse::fmt_utc_s;
    // Every address of the stuffing that tried a login, in the order outputs list them:
    // those that only failed acted beside those that got in, on the same routes.
    // With `idor`, the one address the attacker's own accounts used; with `hijack`, the
    // two that replayed tokens.
    let tried = match (w.idor, w.hijack) {
        (true, _) => 1,
        (_, true) => 2,
        _ => attack::STUFFING_ATTEMPTS,
    };
    let mut wave1_ips: Vec<String> = (w.stuffing_ips.iter().take(tried)).cloned().collect();
    wave1_ips.sort();
    let wave_json = |n: u8, (s, e): (i64, i64)| {
        if n == 1 {
            // The IDOR walk reads profiles too.
            let (how, targets): (_, &[&str]) = if w.idor {
                ("idor", &["bonus", "customer_data"])
            } else if w.hijack {
                ("session_hijack", &["bonus"])
            } else {
                ("credential_stuffing", &["bonus"])
            };
            json!({"id": 1, "start_utc": fmt(s), "end_utc": fmt(e), "targets": targets,
                "techniques": ["bonus_fraud", how],
                "attacker_ips": wave1_ips, "principals": Vec::<String>::new()})
        } else {
            let how: &[&str] = if w.injection {
                &[
                    "bulk_export",
                    "injection",
                    "malicious_push",
                    "new_place_access",
                ]
            } else if w.direct {
                &["bulk_export", "malicious_push", "new_place_access"]
            } else {
                &[
                    "bulk_export",
                    "enumeration",
                    "injection",
                    "malicious_push",
                    "new_place_access",
                ]
            };
            // A direct session's database user is one of the wave's identities.
            let who: Vec<String> = (w.direct.then(|| format!("db:{}", scenario::ANALYTICS)))
                .into_iter()
                .chain([w.stolen.to_string()])
                .collect();
            json!({"id": 2, "start_utc": fmt(s), "end_utc": fmt(e), "targets": ["customer_data", "push"],
                "techniques": how,
                "attacker_ips": [w.wave2_ip], "principals": who})
        }
    };
    let truth = json!({
        "schema": "breachline.truth/1",
        "seed": o.seed,
        "scale": o.scale,
        "evidence_start_utc": fmt(o.start),
        "evidence_end_utc": fmt(w.end),
        "db_clock_skew_seconds": o.db_skew as f64 / 1e6,
        "push_worker_clock_skew_seconds": o.push_skew as f64 / 1e6,
        "gateway_clock_skew_seconds": o.gateway_skew as f64 / 1e6,
        "db_zone": o.tz.name(),
        "waves": waves.iter().map(|(n, s)| wave_json(*n, *s)).collect::<Vec<_>>(),
        "affected": {
            "bonus_tampered": bonus.iter().map(|(c, d)| (id(c), json!(d))).collect::<serde_json::Map<_, _>>(),
            "data_exposed": exposed,
            "malicious_push": pushed,
        },
        "messages": {
            "malicious": msgs.iter().filter(|m| m.wave > 0).flat_map(ids).collect::<Vec<_>>(),
            "legitimate": msgs.iter().filter(|m| m.wave == 0).flat_map(ids).collect::<Vec<_>>(),
            "legitimate_broadcasts": msgs.iter().filter(|m| m.wave == 0 && m.topic == "all").flat_map(ids).collect::<Vec<_>>(),
        },
        "indicators": {
            "ips": wave1_ips.iter().map(String::as_str).chain([w.wave2_ip]).collect::<Vec<_>>(),
            "user_agents": ["python-requests/2.31.0", "okhttp/4.9.2", w.wave2_ua],
            "principals": [w.stolen],
        },
        "files": files,
    });
    let p: &Path = &o.out_dir.join("truth.json");
    std::fs::write(
        p,
        serde_json::to_string_pretty(&truth).unwrap_or_default() + "\n",
    )?;
    let _ = M;
    Ok(())
}
