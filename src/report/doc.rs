//! The report document: every fact the Markdown, HTML and JSON reports carry, computed
//! once, so the three formats cannot disagree. Serialized as `breachline.report/1`.

use super::json::WaveJson;
use crate::correlate::{impact_kind as k, Analysis};
use crate::timeparse::{fmt_utc, fmt_utc_s};
use serde::Serialize;
use std::collections::BTreeMap;

/// Column heads of the tables report.md and report.html both show (one list, so the
/// two renderings cannot drift apart).
/// Waves.
pub const WAVE_COLUMNS: &[&str] = &[
    "wave",
    "start (UTC)",
    "end (UTC)",
    "duration",
    "targets",
    "techniques",
    "attacker addresses",
    "principals",
    "events",
    "accounts",
];
/// Push messages.
pub const MESSAGE_COLUMNS: &[&str] = &[
    "message",
    "provider",
    "sent (UTC)",
    "verdict",
    "title",
    "body",
    "sender",
    "address",
    "recipients",
    "delivered",
    "failed",
    "reason",
];
/// Indicators.
pub const IOC_COLUMNS: &[&str] = &[
    "type",
    "value",
    "first (UTC)",
    "last (UTC)",
    "waves",
    "events",
];

/// Evidence inventory entry.
#[derive(Debug, Serialize)]
pub struct FileRow {
    /// Path.
    pub path: String,
    /// Format.
    pub format: String,
    /// SHA-256.
    pub sha256: String,
    /// Bytes on disk.
    pub bytes: u64,
    /// Physical lines.
    pub lines: u64,
    /// Records.
    pub records: u64,
    /// Events.
    pub events: u64,
    /// Duplicates dropped.
    pub duplicates: u64,
    /// Rejected.
    pub rejected: u64,
    /// Skipped.
    pub skipped: u64,
    /// First event.
    pub first_utc: Option<String>,
    /// Last event.
    pub last_utc: Option<String>,
    /// Clock correction applied, seconds.
    pub skew_correction_s: f64,
    /// File-level problem.
    pub error: Option<String>,
}

/// Totals.
#[derive(Debug, Serialize, Default)]
pub struct Counts {
    /// Files.
    pub files: usize,
    /// Lines.
    pub lines: u64,
    /// Records.
    pub records: u64,
    /// Events.
    pub events: u64,
    /// Duplicates.
    pub duplicates: u64,
    /// Rejected.
    pub rejected: u64,
    /// Skipped.
    pub skipped: u64,
    /// Files with problems.
    pub files_with_errors: usize,
    /// Roster rows and rejected roster rows.
    pub roster_rows: u64,
    /// Rejected roster rows.
    pub roster_rejected: u64,
}

/// Impact numbers.
#[derive(Debug, Serialize, Default)]
pub struct Impact {
    /// Accounts affected in any way.
    pub customers_total: usize,
    /// Per impact kind.
    pub bonus_tampered: usize,
    /// Data exposed.
    pub data_exposed: usize,
    /// Malicious push received.
    pub malicious_push: usize,
    /// Sum of |delta| over tampered accounts.
    pub points_moved_total: i64,
    /// Net points the attacker gained (sum of positive deltas).
    pub points_credited: i64,
    /// Points removed from accounts (sum of negative deltas, as a positive number).
    pub points_debited: i64,
    /// |delta| per wave.
    pub points_moved_by_wave: BTreeMap<u32, i64>,
    /// Messages.
    pub messages_malicious: usize,
    /// Messages.
    pub messages_legitimate: usize,
}

/// A message row.
#[derive(Debug, Serialize)]
pub struct MessageRow {
    /// Id.
    pub id: String,
    /// Provider.
    pub provider: String,
    /// Sent.
    pub sent_utc: String,
    /// Title.
    pub title: Option<String>,
    /// Body.
    pub body: Option<String>,
    /// Verdict.
    pub verdict: &'static str,
    /// Why.
    pub reason: String,
    /// Sender.
    pub sender: Option<String>,
    /// Address.
    pub source_ip: Option<String>,
    /// Wave.
    pub wave: Option<u32>,
    /// Recipients.
    pub recipients: u64,
    /// Delivered.
    pub delivered: u64,
    /// Failed.
    pub failed: u64,
}

/// An indicator.
#[derive(Debug, Serialize)]
pub struct IocRow {
    /// Kind.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Value.
    pub value: String,
    /// First.
    pub first_utc: String,
    /// Last.
    pub last_utc: String,
    /// Waves.
    pub waves: Vec<u32>,
    /// Events.
    pub events: usize,
}

/// A place of a principal.
#[derive(Debug, Serialize)]
pub struct Place {
    /// Address.
    pub address: String,
    /// First.
    pub first_utc: String,
    /// Last.
    pub last_utc: String,
    /// Events.
    pub events: usize,
    /// Usual place.
    pub usual: bool,
}

/// A principal.
#[derive(Debug, Serialize)]
pub struct PrincipalRow {
    /// Name.
    pub principal: String,
    /// Assessment.
    pub assessment: &'static str,
    /// Attacker events.
    pub attacker_events: usize,
    /// Places.
    pub places: Vec<Place>,
}

/// A finding.
#[derive(Debug, Serialize)]
pub struct FindingRow {
    /// Technique.
    pub technique: &'static str,
    /// Subject.
    pub subject: String,
    /// Explanation.
    pub explanation: String,
    /// Evidence events.
    pub events: usize,
    /// First evidence `file:line`.
    pub example: String,
}

/// A quiet gap in one log.
#[derive(Debug, Serialize)]
pub struct Gap {
    /// Source format.
    pub source: String,
    /// From.
    pub from_utc: String,
    /// To.
    pub to_utc: String,
    /// Hours.
    pub hours: f64,
}

/// A skew estimate.
#[derive(Debug, Serialize)]
pub struct SkewRow {
    /// Source.
    pub source: String,
    /// Reference.
    pub against: String,
    /// Median offset in seconds.
    pub median_s: f64,
    /// Correction applied in seconds.
    pub correction_s: f64,
    /// Pairs.
    pub pairs: usize,
    /// Applied.
    pub applied: bool,
}

/// A time bucket for charts.
#[derive(Debug, Serialize, Clone)]
pub struct Bucket {
    /// Start.
    pub start_utc: String,
    /// Start, µs.
    #[serde(skip)]
    pub start_us: i64,
    /// Events per source.
    pub events: BTreeMap<&'static str, u64>,
    /// Attacker events per source.
    pub attacker: BTreeMap<&'static str, u64>,
}

/// The whole report.
#[derive(Debug, Serialize)]
pub struct ReportDoc {
    /// `breachline.report/1`.
    pub schema: &'static str,
    /// Title.
    pub title: String,
    /// Generation time, only when asked for.
    pub generated_at: Option<String>,
    /// Executive summary sentences.
    pub summary: Vec<String>,
    /// Evidence window.
    pub evidence_first_utc: Option<String>,
    /// Evidence window.
    pub evidence_last_utc: Option<String>,
    /// Totals.
    pub counts: Counts,
    /// Waves.
    pub waves: Vec<WaveJson>,
    /// Narrative per wave.
    pub narratives: Vec<Vec<String>>,
    /// Impact.
    pub impact: Impact,
    /// Messages.
    pub messages: Vec<MessageRow>,
    /// Indicators.
    pub iocs: Vec<IocRow>,
    /// Principals.
    pub principals: Vec<PrincipalRow>,
    /// Findings.
    pub findings: Vec<FindingRow>,
    /// Inventory.
    pub files: Vec<FileRow>,
    /// Gaps.
    pub gaps: Vec<Gap>,
    /// Clock skew.
    pub skews: Vec<SkewRow>,
    /// What could not be determined.
    pub undetermined: Vec<String>,
    /// Method and limits.
    pub method: Vec<String>,
    /// Activity over time.
    pub activity: Vec<Bucket>,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Builds the report document.
pub fn build(a: &Analysis, title: &str, generated_at: Option<String>) -> ReportDoc {
    let ev = &a.ing.events;
    let files: Vec<FileRow> = a
        .ing
        .files
        .iter()
        .map(|f| FileRow {
            path: f.path.clone(),
            format: f.format.clone(),
            sha256: f.sha256.clone(),
            bytes: f.bytes,
            lines: f.lines,
            records: f.records,
            events: f.events,
            duplicates: f.duplicates,
            rejected: f.rejected,
            skipped: f.skipped,
            first_utc: f.first_ts.map(fmt_utc),
            last_utc: f.last_ts.map(fmt_utc),
            skew_correction_s: f.skew_us as f64 / 1e6,
            error: f
                .error
                .clone()
                .or(f.note.as_ref().map(|n| format!("not parsed: {n}"))),
        })
        .collect();
    let mut counts = Counts {
        files: files.len(),
        ..Default::default()
    };
    for f in &files {
        counts.lines += f.lines;
        counts.records += f.records;
        counts.events += f.events;
        counts.duplicates += f.duplicates;
        counts.rejected += f.rejected;
        counts.skipped += f.skipped;
        counts.files_with_errors += (f.error.is_some()
            && !f.error.as_deref().unwrap_or("").starts_with("not parsed"))
            as usize;
    }
    if let Some(r) = &a.roster {
        counts.roster_rows = r.rows;
        counts.roster_rejected = r.rejected.len() as u64;
    }
    let n = |kind: &str| {
        a.affected
            .values()
            .filter(|x| x.impacts.contains(kind))
            .count()
    };
    let mut impact = Impact {
        customers_total: a.affected.len(),
        bonus_tampered: n(k::BONUS),
        data_exposed: n(k::DATA),
        malicious_push: n(k::PUSH),
        messages_malicious: a.messages.iter().filter(|m| m.malicious).count(),
        messages_legitimate: a.messages.iter().filter(|m| !m.malicious).count(),
        ..Default::default()
    };
    for x in a.affected.values() {
        if let Some(d) = x.bonus_points() {
            impact.points_moved_total += d.abs();
            if d > 0 {
                impact.points_credited += d;
            } else {
                impact.points_debited -= d;
            }
        }
    }
    // By operation, of those whose effect is known (a balance set from an unknown one
    // moved an unknown number of points).
    for &(i, _, d, set) in &a.bonus_ops {
        if let (Some(at), false) = (&a.attr[i], set) {
            *impact.points_moved_by_wave.entry(at.wave).or_default() += d.abs();
        }
    }
    let waves: Vec<WaveJson> = a.waves.iter().map(WaveJson::from).collect();
    let narratives = a.waves.iter().map(|w| narrative(a, w)).collect();
    let mut summary = Vec::new();
    match (a.waves.first(), a.waves.last()) {
        (Some(f), Some(l)) => {
            summary.push(format!(
                "The evidence shows {} of attacker activity between {} and {} (UTC).",
                plural(a.waves.len(), "wave", "waves"),
                fmt_utc_s(f.start),
                fmt_utc_s(l.end)
            ));
            for w in &a.waves {
                // A wave of sends alone (a campaign scheduled later) has no address, and
                // may name no technique: the clauses are left out rather than left empty.
                let clause = |lead: &str, items: Vec<String>| {
                    if items.is_empty() {
                        String::new()
                    } else {
                        format!("{lead}{}", items.join(", "))
                    }
                };
                summary.push(format!(
                    "Wave {} ({} – {}) hit {}{}{}{}.",
                    w.id,
                    fmt_utc_s(w.start),
                    fmt_utc_s(w.end),
                    if w.targets.is_empty() {
                        "no identified system".to_string()
                    } else {
                        w.targets
                            .iter()
                            .map(|t| t.as_str().replace('_', " "))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    },
                    clause(
                        " using ",
                        w.techniques.iter().map(|t| t.replace('_', " ")).collect()
                    ),
                    clause(", from ", w.attacker_ips.iter().cloned().collect()),
                    clause(" as ", w.principals.iter().cloned().collect()),
                ));
            }
            let unknown = (a.affected.values())
                .filter(|x| x.impacts.contains(k::BONUS) && x.bonus_points().is_none())
                .count();
            summary.push(format!(
                "{} affected: {} with bonus balances changed ({} points moved in total{}), {} whose personal data was exposed, {} who received a malicious push.",
                plural(impact.customers_total, "customer account was", "customer accounts were"),
                impact.bonus_tampered,
                impact.points_moved_total,
                if unknown > 0 {
                    format!(" on those whose changes the evidence gives; {unknown} by points it does not")
                } else {
                    String::new()
                },
                impact.data_exposed,
                impact.malicious_push
            ));
            summary.push(format!(
                "{} of {} push messages were sent by the attacker; the others, including broadcasts to everyone, trace to the normal staff path.",
                impact.messages_malicious,
                a.messages.len()
            ));
        }
        _ => summary.push("No attacker activity was found in the evidence.".into()),
    }
    summary.push(format!(
        "Evidence: {} files, {} events; {} records rejected, {} duplicates dropped, {} skipped.",
        counts.files, counts.events, counts.rejected, counts.duplicates, counts.skipped
    ));
    let principals = a
        .principals
        .iter()
        .map(|p| {
            let new_used = p.places.iter().any(|pl| !pl.4);
            PrincipalRow {
                principal: p.principal.clone(),
                assessment: match (p.attacker_events > 0, new_used) {
                    (true, true) => "stolen-credential-looking: attacker activity from places this principal never used",
                    (true, false) => "insider-looking: attacker activity from this principal's usual places",
                    (false, true) => "used from a new place, no attacker activity linked",
                    (false, false) => "usual places only, no attacker activity",
                },
                attacker_events: p.attacker_events,
                places: p.places.iter().map(|(ip, f, l, n, u)| Place { address: ip.clone(), first_utc: fmt_utc(*f), last_utc: fmt_utc(*l), events: *n, usual: *u }).collect(),
            }
        })
        .collect();
    let findings = a
        .findings
        .iter()
        .map(|f| FindingRow {
            technique: f.technique,
            subject: f.subject.clone(),
            explanation: f.explanation.clone(),
            events: f.events.len(),
            example: f
                .events
                .first()
                .map(|&i| super::timeline::evidence(a, &ev[i]))
                .unwrap_or_default(),
        })
        .collect();
    ReportDoc {
        schema: "breachline.report/1",
        title: title.to_string(),
        generated_at,
        summary,
        evidence_first_utc: ev.first().map(|e| fmt_utc(e.ts)),
        evidence_last_utc: ev.last().map(|e| fmt_utc(e.ts)),
        counts,
        waves,
        narratives,
        impact,
        messages: a
            .messages
            .iter()
            .map(|m| MessageRow {
                id: m.id.clone(),
                provider: m.provider.clone(),
                sent_utc: fmt_utc(m.sent),
                title: m.title.clone(),
                body: m.body.clone(),
                verdict: if m.malicious {
                    "malicious"
                } else {
                    "legitimate"
                },
                reason: m.reason.clone(),
                sender: m.sender.clone(),
                source_ip: m.source_ip.clone(),
                wave: m.wave,
                recipients: m.recipient_count,
                delivered: m.delivered,
                failed: m.failed,
            })
            .collect(),
        iocs: a
            .iocs
            .iter()
            .map(|i| IocRow {
                kind: i.kind,
                value: i.value.clone(),
                first_utc: fmt_utc(i.first),
                last_utc: fmt_utc(i.last),
                waves: i.waves.iter().copied().collect(),
                events: i.events,
            })
            .collect(),
        principals,
        findings,
        files,
        gaps: gaps(a),
        skews: a
            .skews
            .iter()
            .map(|s| SkewRow {
                source: s.source.clone(),
                against: s.against.clone(),
                median_s: s.median_us as f64 / 1e6,
                correction_s: s.correction_us as f64 / 1e6,
                pairs: s.pairs,
                applied: s.applied,
            })
            .collect(),
        undetermined: a.notes.clone(),
        method: method(),
        activity: activity(a),
    }
}

fn narrative(a: &Analysis, w: &crate::correlate::Wave) -> Vec<String> {
    let mut out = Vec::new();
    let mut by_tech: BTreeMap<&str, Vec<&crate::correlate::Finding>> = BTreeMap::new();
    for f in &a.findings {
        if f.events
            .iter()
            .any(|&i| a.attr[i].as_ref().is_some_and(|x| x.wave == w.id))
        {
            by_tech.entry(f.technique).or_default().push(f);
        }
    }
    for (_, fs) in by_tech {
        for f in fs {
            out.push(format!(
                "{} ({} evidence events).",
                f.explanation,
                f.events.len()
            ));
        }
    }
    let affected: Vec<_> = a
        .affected
        .values()
        .filter(|x| x.waves.contains(&w.id))
        .collect();
    let tampered: Vec<_> = (affected.iter())
        .filter(|x| x.bonus_waves.contains(&w.id))
        .collect();
    let known: Vec<i64> = tampered.iter().filter_map(|x| x.bonus_points()).collect();
    let bonus: i64 = known.iter().map(|d| d.abs()).sum();
    if bonus > 0 {
        out.push(format!(
            "{} points were moved on {} accounts.",
            bonus,
            known.len()
        ));
    }
    let unknown = tampered.len() - known.len();
    if unknown > 0 {
        out.push(format!(
            "{unknown} account(s) had their balance changed by points the evidence does not \
             give (set to a value with no earlier balance, by an amount a statement does not \
             state, or through a request no database evidence covers): restore them from a \
             backup."
        ));
    }
    for m in a
        .messages
        .iter()
        .filter(|m| m.malicious && m.wave == Some(w.id))
    {
        let to = match (m.recipient_count, m.target.as_deref()) {
            (0, Some(t)) => format!("went to {t}, with no recipient count"),
            (0, None) => "names no recipients".to_string(),
            (n, _) => format!(
                "went to {n} devices ({} delivered, {} failed)",
                m.delivered, m.failed
            ),
        };
        let counted = match m.audience {
            0 => String::new(),
            k if !m.recipients.is_empty() => format!(
                "; its delivery records are a sample: {k} accounts counted as its recipients \
                 (see the notes)"
            ),
            k => format!(
                "; {k} accounts counted as its recipients, with no per-device records (see \
                 the notes)"
            ),
        };
        out.push(format!(
            "Malicious message {} {to}{counted} ({} evidence events).",
            m.id,
            m.events.len()
        ));
    }
    out.push(format!(
        "{} attacker events in all: {}.",
        w.events,
        w.per_source
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out
}

/// The gaps of each gateway/DB log (`correlate::gaps`), as reports list them.
fn gaps(a: &Analysis) -> Vec<Gap> {
    (a.gaps.iter())
        .map(|g| Gap {
            source: format!("{}:{}", g.kind.as_str(), g.format),
            from_utc: fmt_utc(g.from),
            to_utc: fmt_utc(g.to),
            hours: ((g.to - g.from) as f64 / 3.6e9 * 10.0).round() / 10.0,
        })
        .collect()
}

fn activity(a: &Analysis) -> Vec<Bucket> {
    let ev = &a.ing.events;
    let (Some(f), Some(l)) = (ev.first(), ev.last()) else {
        return Vec::new();
    };
    let span = l.ts.saturating_sub(f.ts).max(1);
    // At most ~200 buckets: evidence spanning more than 200 days (a record from years
    // away) gets buckets of as many whole days as keep the count there.
    const DAY: i64 = 86_400_000_000;
    let step = [
        900_000_000i64,
        1_800_000_000,
        3_600_000_000,
        7_200_000_000,
        21_600_000_000,
        DAY,
    ]
    .into_iter()
    .find(|s| span / s <= 200)
    .unwrap_or_else(|| (span / 200 / DAY + 1) * DAY);
    let start = f.ts - f.ts.rem_euclid(step);
    let n = ((l.ts - start) / step + 1) as usize;
    let mut b: Vec<Bucket> = (0..n)
        .map(|k| {
            let s = start + k as i64 * step;
            Bucket {
                start_utc: fmt_utc_s(s),
                start_us: s,
                events: BTreeMap::new(),
                attacker: BTreeMap::new(),
            }
        })
        .collect();
    for (i, e) in ev.iter().enumerate() {
        let k = ((e.ts - start) / step) as usize;
        if let Some(x) = b.get_mut(k) {
            *x.events.entry(e.kind().as_str()).or_default() += 1;
            if a.attr[i].is_some() {
                *x.attacker.entry(e.kind().as_str()).or_default() += 1;
            }
        }
    }
    b
}

fn method() -> Vec<String> {
    vec![
        "Every evidence file was read once, read-only, and hashed with SHA-256 while it was read. Each record became an event or was counted as rejected (with file, line and reason), skipped (blank, header, server chatter) or a duplicate of a record in another file. A database's records logged in more than one format (one server writing to several destinations) were matched once clocks were corrected — the same statement and values, user and database, within 2 s — and each counted once; so were requests logged in more than one gateway format — the same client address, method, path (a stage prefix aside) and status, user agent and request id where both name them, within 2 s and the request's logged latency.".into(),
        "Times are UTC. Zone abbreviations in the logs were resolved with a fixed table; zone-less timestamps took the zone given with --assume-tz. The database clock was compared with the gateway's through statements tagged with the request id of a gateway request or, for statements without one, through statements and requests about the same account; where the offset exceeded a second it was corrected.".into(),
        "Detectors: failed-login rates and distinct login names per address (credential stuffing), and a staff login that got in after ten failures or more from an address staff do not work from (brute force); distinct accounts read per address within an hour (enumeration); injection payloads in URLs and statements; bonus changes far above the population's typical size (a balance set outright by the change it made), credits piling into one account within an hour, transfers fanning into one account faster than the other accounts' transfers explain, and balance updates that name no rows, outside routine jobs; whole-table reads and exports of customer data outside routine database identities; privileged requests by a principal from an address it had not used in its first day of activity or on two days, and, where the gateway logs no identity, a send to every customer asked for from an address staff do not work from under an agent staff do not use; statements of a database user from a public address it had not used, where its usual hosts are private.".into(),
        "Attribution: addresses flagged by a detector are attacker addresses, except those whose every request was refused and that reached nothing (scanning, failed attempts; a note lists them); their requests, the statements those requests issued (by request id or, without one, by account, time and session, or by timing alone where nothing else ties any, as a note then says), tokens they used, and direct database sessions from them are attacker activity. The same principal acting from its usual places stays legitimate. Attacker activity is split into waves wherever it pauses for longer than the wave gap.".into(),
        "Impact: a bonus balance is tampered when an attacker-attributed statement changed it (balance UPDATEs count; ledger INSERTs only where no UPDATE records the same operation); personal data is exposed when an attacker request returned an account, an attacker statement selected its row, or a whole-table read or export ran while the account existed; a push is malicious when its campaign, request or timing traces to attacker activity, and its recipients are the devices it did not fail on.".into(),
        "Limits: evidence not given cannot be analysed; success deliveries may be sampled by providers; an address behind a proxy is the proxy's; without a roster, whole-table exposure is bounded by the accounts seen in the evidence.".into(),
    ]
}
