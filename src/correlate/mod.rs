//! Correlation: turns normalized events from all sources into findings — links across
//! sources, clock-skew estimates, detector findings, attacker attribution spread along the
//! links, attack waves, push-message verdicts, and the affected accounts. Everything it
//! decides carries its reason and the evidence events.

pub mod actors;
pub mod apiranges;
pub mod attribute;
pub mod audience;
pub mod balances;
pub mod bypass;
pub mod contacts;
pub mod coverage;
pub mod dbindex;
pub mod dbplaces;
pub mod dedupe;
pub mod definitions;
pub mod detect;
pub mod drift;
pub mod echoes;
pub mod enrich;
pub mod fanin;
pub mod gaps;
pub mod gwclock;
pub mod hijack;
pub mod idor;
pub mod impact;
pub mod injection;
pub mod join;
pub mod keyranges;
pub mod linknotes;
pub mod masswrite;
pub mod messages;
pub mod operations;
pub mod owners;
pub mod pages;
pub mod pagetie;
pub mod paths;
pub mod places;
pub mod probing;
pub mod proxies;
pub mod pushclock;
pub mod pushplace;
pub mod reads;
pub mod received;
pub mod refunds;
pub mod relations;
pub mod replies;
pub mod rosterzone;
pub mod sampled;
pub mod series;
pub mod served;
pub mod sessions;
pub mod shared;
pub mod skew;
pub mod spray;
pub mod stuffing;
pub mod subjects;
pub mod tamper;
pub mod tie;
pub mod timing;
pub mod traces;
pub mod unlogged;
pub mod usual;
pub mod velocity;

use crate::ingest::pipeline::Ingested;
use crate::profile::{Profile, Target};
use crate::roster::Roster;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// A technique a detector recognizes (the vocabulary of waves' `techniques`).
pub mod technique {
    /// Many failed logins from one address, some successes.
    pub const CREDENTIAL_STUFFING: &str = "credential_stuffing";
    /// Many distinct accounts read by one actor.
    pub const ENUMERATION: &str = "enumeration";
    /// A signed-in customer reaching many other customers' accounts.
    pub const IDOR: &str = "idor";
    /// Many customers' sessions used from one address where none of them signed in.
    pub const SESSION_HIJACK: &str = "session_hijack";
    /// SQL injection / traversal payloads.
    pub const INJECTION: &str = "injection";
    /// Anomalous bonus changes (huge, negative, fan-in).
    pub const BONUS_FRAUD: &str = "bonus_fraud";
    /// Whole-table read or export of customer data outside known-good jobs.
    pub const BULK_EXPORT: &str = "bulk_export";
    /// Privileged action by a principal from a place it never used.
    pub const NEW_PLACE_ACCESS: &str = "new_place_access";
    /// A mass push traced to attacker activity.
    pub const MALICIOUS_PUSH: &str = "malicious_push";
    /// Audit or statement logging switched off, logs deleted (a cleared event log).
    pub const LOG_TAMPERING: &str = "log_tampering";
}

/// Settings of a correlation run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Site profile.
    pub profile: Profile,
    /// Wave gap, µs.
    pub wave_gap: i64,
    /// Definitions of routines and tables from `--schema`.
    pub schema: Vec<crate::schema::Given>,
}

/// What one detector found.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Technique.
    pub technique: &'static str,
    /// What it is about (an address, `principal@address`, a DB identity).
    pub subject: String,
    /// The rule and the numbers, in words.
    pub explanation: String,
    /// Evidence events (indices into `events`).
    pub events: Vec<usize>,
    /// Addresses it makes attacker entities.
    pub seed_ips: Vec<String>,
    /// (principal, address) contexts it makes attacker entities.
    pub seed_contexts: Vec<(String, String)>,
    /// Direct DB sessions it makes attacker entities.
    pub seed_sessions: Vec<String>,
    /// Addresses of `seed_ips` the finding saw others use, under agents its requests
    /// never used (a pool's exit its customers share): shared (`shared.rs`) without
    /// more.
    pub shared_ips: Vec<String>,
}

/// Why an event is attacker activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    /// In words.
    pub reason: String,
    /// Wave number (1-based), filled when waves are built.
    pub wave: u32,
    /// Attributed as a direct database session (its host and user are the attacker's).
    pub direct_db: bool,
}

/// An attack wave.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Wave {
    /// 1-based, in time order.
    pub id: u32,
    /// First attacker event, µs.
    pub start: i64,
    /// Last attacker event, µs.
    pub end: i64,
    /// Systems hit.
    pub targets: BTreeSet<Target>,
    /// Techniques seen.
    pub techniques: BTreeSet<&'static str>,
    /// Attacker addresses.
    pub attacker_ips: BTreeSet<String>,
    /// Principals used.
    pub principals: BTreeSet<String>,
    /// Attacker events.
    pub events: usize,
    /// Events per source.
    pub per_source: BTreeMap<&'static str, usize>,
    /// Events per target.
    pub per_target: BTreeMap<&'static str, usize>,
    /// Accounts affected in this wave.
    pub accounts_affected: usize,
    /// Malicious message ids.
    pub messages: Vec<String>,
}

/// Estimated clock skew of a source against the gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct Skew {
    /// Source label (`db:pg-stderr`).
    pub source: String,
    /// Reference (`gateway`).
    pub against: String,
    /// Median offset (source − reference), µs.
    pub median_us: i64,
    /// Correction subtracted from the source's times, µs (0 when not applied).
    pub correction_us: i64,
    /// Linked pairs used.
    pub pairs: usize,
    /// Whether the correction was applied.
    pub applied: bool,
}

/// A per-device push recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    /// Device / subscription / endpoint.
    pub device: String,
    /// Account, when known.
    pub account: Option<String>,
    /// Delivered (not failed).
    pub ok: bool,
}

/// One push message and its verdict.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Message {
    /// Provider message id.
    pub id: String,
    /// Provider (format name).
    pub provider: String,
    /// Campaign id / label.
    pub campaign: Option<String>,
    /// Send time.
    pub sent: i64,
    /// Title.
    pub title: Option<String>,
    /// Body.
    pub body: Option<String>,
    /// Topic / segment.
    pub target: Option<String>,
    /// Sender principal.
    pub sender: Option<String>,
    /// Whether `sender` is the author the campaign's row names, the originating request
    /// naming no identity.
    pub sender_from_row: bool,
    /// Address that triggered the send.
    pub source_ip: Option<String>,
    /// Per-device recipients.
    pub recipients: Vec<Recipient>,
    /// Recipient count (per-device rows, or the summary's count).
    pub recipient_count: u64,
    /// Delivered count.
    pub delivered: u64,
    /// Failed count.
    pub failed: u64,
    /// Malicious?
    pub malicious: bool,
    /// Why.
    pub reason: String,
    /// Wave, when malicious.
    pub wave: Option<u32>,
    /// Events of this message.
    pub events: Vec<usize>,
    /// The event that originated the send.
    pub origin: Option<usize>,
    /// The accounts counted as its recipients by what it addressed or went to as a whole
    /// (`audience`), there being no per-device records; 0 for none.
    pub audience: usize,
}

impl Message {
    /// The first of the message's events that names each device: where and when each
    /// recipient shows in the evidence. Receipts that name only their
    /// ticket carry no device and are not counted here.
    pub fn first_event_per_device<'a>(
        &self,
        ev: &'a [Box<crate::model::Event>],
    ) -> std::collections::HashMap<&'a str, usize> {
        let mut first = std::collections::HashMap::new();
        for &i in &self.events {
            if let Some(d) = ev[i].push().device_id.as_deref() {
                first.entry(d).or_insert(i);
            }
        }
        first
    }
}

/// Impact kinds.
pub mod impact_kind {
    /// Bonus balance changed by the attacker.
    pub const BONUS: &str = "bonus_tampered";
    /// Personal data reached the attacker.
    pub const DATA: &str = "data_exposed";
    /// Received a malicious push.
    pub const PUSH: &str = "malicious_push";
}

/// One affected account.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Affected {
    /// Account id.
    pub account: String,
    /// Impacts.
    pub impacts: BTreeSet<&'static str>,
    /// Waves.
    pub waves: BTreeSet<u32>,
    /// Signed bonus delta (None without bonus impact); of the changes whose effect is
    /// known, see `bonus_unknown` and [`Affected::bonus_points`].
    pub bonus_delta: Option<i64>,
    /// Changes of the attacker's whose points the evidence does not give: a balance set
    /// with no earlier balance in the evidence, an amount a statement does not state, a
    /// request no database evidence covers.
    pub bonus_unknown: u64,
    /// Bonus operations counted.
    pub bonus_ops: u64,
    /// Waves of the bonus operations.
    pub bonus_waves: BTreeSet<u32>,
    /// First / last bonus change.
    pub bonus_span: Option<(i64, i64)>,
    /// Malicious messages received.
    pub messages: BTreeSet<String>,
    /// First evidence time.
    pub first: i64,
    /// Last evidence time.
    pub last: i64,
    /// Evidence: (event index, kind, reason).
    pub evidence: Vec<(usize, &'static str, String)>,
}

impl Affected {
    /// The points the attacker moved on the account, where known: none without a bonus
    /// impact, or when a balance was set to a value the evidence gives no earlier
    /// balance for (its correction is a restore, not a sum).
    pub fn bonus_points(&self) -> Option<i64> {
        self.bonus_delta.filter(|_| self.bonus_unknown == 0)
    }
}

/// An indicator of compromise.
#[derive(Debug, Clone, PartialEq)]
pub struct Ioc {
    /// `ip`, `user_agent`, `principal`, `token`, `db_user`.
    pub kind: &'static str,
    /// Value.
    pub value: String,
    /// First seen.
    pub first: i64,
    /// Last seen.
    pub last: i64,
    /// Waves.
    pub waves: BTreeSet<u32>,
    /// Attacker events with it.
    pub events: usize,
}

/// Where a principal acted from.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalPlaces {
    /// Principal.
    pub principal: String,
    /// (address, first, last, events, usual?).
    pub places: Vec<(String, i64, i64, usize, bool)>,
    /// Attacker-attributed events of this principal.
    pub attacker_events: usize,
}

/// Everything correlation produced.
#[derive(Debug, Default)]
pub struct Analysis {
    /// Events, inventory and rejections (times skew-corrected, re-sorted).
    pub ing: Ingested,
    /// Per event: its target system.
    pub targets: Vec<Option<Target>>,
    /// Per event: attacker attribution.
    pub attr: Vec<Option<Attribution>>,
    /// Effective bonus changes: (event, account, delta, absolute).
    pub bonus_ops: Vec<(usize, String, i64, bool)>,
    /// Outlying credits that restored an earlier outlying debit: credit → debit event.
    pub restored: BTreeMap<usize, usize>,
    /// Detector findings.
    pub findings: Vec<Finding>,
    /// Waves in time order.
    pub waves: Vec<Wave>,
    /// Push messages.
    pub messages: Vec<Message>,
    /// Affected accounts, by id.
    pub affected: BTreeMap<String, Affected>,
    /// Indicators.
    pub iocs: Vec<Ioc>,
    /// Clock-skew estimates.
    pub skews: Vec<Skew>,
    /// Silences in each gateway and DB format, found before copies were dropped.
    pub gaps: Vec<gaps::Gap>,
    /// Principals and their places.
    pub principals: Vec<PrincipalPlaces>,
    /// The roster, when given.
    pub roster: Option<Roster>,
    /// Things that could not be determined, in words.
    pub notes: Vec<String>,
}

/// Runs correlation.
pub fn analyze(ing: Ingested, roster: Option<Roster>, opts: &Options) -> Analysis {
    let mut a = Analysis {
        ing,
        roster,
        ..Default::default()
    };
    let p = &opts.profile;
    let defined = definitions::resolve(&mut a.ing.events, &a.ing.files, p, &opts.schema);
    a.notes.extend(defined);
    let proxied = proxies::resolve(&mut a.ing.events);
    a.notes.extend(proxied.note());
    let traced = traces::resolve(&mut a.ing.events);
    if traced > 0 {
        a.notes.push(format!(
            "{traced} statements were tagged with a trace (sqlcommenter's traceparent) \
             rather than a request id: each was joined to the gateway request that logged \
             the same trace (X-Ray's or W3C's trace id), and carries its trace as trace_id"
        ));
    }
    echoes::resolve(&mut a.ing.events, &a.ing.files);
    let repeats = relations::resolve(&mut a.ing.events, &a.ing.files);
    if repeats.audit > 0 {
        a.notes.push(format!(
            "{} pgaudit records repeat a statement logged once per table it touched \
             (pgaudit.log_relation) or as both SESSION and OBJECT: the statement's reads and \
             bonus changes are counted once, on the record each names (statement_facts_on)",
            repeats.audit
        ));
    }
    if repeats.logged > 0 {
        a.notes.push(format!(
            "{} statements were logged both by pgaudit and by PostgreSQL's own statement \
             logging (log_statement or log_min_duration_statement): each counts once, on the \
             record its repeat names (statement_facts_on; the one with the bound values where \
             only one has them)",
            repeats.logged
        ));
    }
    sessions::fill(&mut a.ing.events, &a.ing.files);
    let owned = owners::resolve(&mut a.ing.events, &a.ing.files);
    a.notes.extend(owned.notes());
    let contacted = contacts::resolve(&mut a.ing.events, a.roster.as_ref());
    a.notes.extend(contacted.note());
    let replied = replies::pair(&mut a.ing.events);
    if replied > 0 {
        a.notes.push(format!(
            "{replied} push send requests were logged apart from the provider's answer (the \
             message id, or the failure, on a later line of the same log): each took the \
             first answer after it within a minute, in order (answer_line)"
        ));
    }
    enrich::enrich(&mut a, p);
    // Gateway layers' clocks first: the DB's and the push worker's are compared with them.
    let layers = gwclock::estimate_and_apply(&mut a, p);
    if layers.iter().any(|s| s.applied) {
        resort(&mut a);
    }
    let join = join::RequestJoin::build(&a.ing.events);
    let db = skew::estimate_and_apply(&mut a, &join);
    a.skews = layers;
    a.skews.extend(db);
    let push = pushclock::estimate_and_apply(&mut a, p);
    a.skews.extend(push);
    let join = restore_order(&mut a, join);
    a.gaps = gaps::find(&a.ing.events);
    // Once clocks agree, one source's records written in several formats are one each.
    // A dropped gateway copy may be the request a statement was joined to: join again.
    let (join, same_clock) = match dedupe::drop_copies(&mut a) {
        Some(k) if k.gateway => (join::RequestJoin::build(&a.ing.events), k.same_clock),
        Some(k) => (join.reordered(&k.old), k.same_clock),
        None => (join, Vec::new()),
    };
    let mut ctx = enrich::Links::build(&a, p, join);
    a.bonus_ops = operations::bonus_ops(&a, &ctx);
    // Refunds of the morning after are outlying changes no request of the attack made:
    // left out of the changes timing fits.
    a.restored = refunds::find(&a, p);
    // Nothing ties the application's statements to requests: what the detectors flagged
    // may still follow flagged requests at one offset (`timing`). Its correction moves
    // the DB's times, so the order and the links are made again.
    let mut timed = false;
    if timing::nothing_linked(&a, &ctx) {
        let found = detect::run(&a, &ctx, p);
        if let Some(mut t) = timing::estimate(&a, &ctx, &found) {
            timed = true;
            // A format whose records were copies of a fitted one's has that one's clock.
            let copies = t.cover_copies(&a.ing.events, &same_clock);
            for (fmt, fit) in &t.formats {
                skew::shift(&mut a, fmt, fit.lo);
                a.skews.retain(|s| s.source != format!("db:{fmt}"));
                let copy = copies.iter().find(|(y, _)| y == fmt);
                a.skews.push(Skew {
                    source: format!("db:{fmt}"),
                    against: if let Some((_, x)) = copy {
                        format!("db:{x} (its records' copies, by timing)")
                    } else if fit.unflagged {
                        "gateway (by timing of one route's requests)".into()
                    } else {
                        "gateway (by timing of flagged addresses' requests)".into()
                    },
                    median_us: fit.lo,
                    correction_us: fit.lo,
                    pairs: fit.agree,
                    applied: true,
                });
            }
            let join = restore_order(&mut a, ctx.by_request);
            ctx = enrich::Links::build(&a, p, join);
            let (tied, others) = timing::link(&a, &mut ctx, &t);
            let copied = |f: &str| copies.iter().any(|(y, _)| *y == f);
            for (fmt, fit) in t.formats.iter().filter(|(f, _)| !copied(f)) {
                a.notes.push(format!(
                    "Neither request ids nor accounts tie the {fmt} statements to gateway \
                     requests. {} of its {} outlying bonus changes follow changing requests \
                     {} at one offset ({} {} the gateway's): its times were corrected by \
                     it, and bonus changes that follow a flagged request to a route bonus \
                     changes follow, with no other address's request to such a route in \
                     that window, were tied to it ({tied} in all); those that follow the \
                     one request of an unflagged address there, to that one ({others}). \
                     These links rest on \
                     timing alone; review them.",
                    fit.agree,
                    fit.of,
                    if fit.unflagged {
                        "to one route, of addresses no detector flagged,"
                    } else {
                        "of flagged addresses"
                    },
                    skew::hms(fit.lo.abs()),
                    if fit.lo >= 0 { "ahead of" } else { "behind" },
                ));
            }
            for (y, x) in &copies {
                a.notes.push(format!(
                    "The {y} records matched copies in the {x} records (one server logging \
                     to both): its times were corrected by the offset timing found for \
                     {x}, and its statements tied as {x}'s were."
                ));
            }
            a.bonus_ops = operations::bonus_ops(&a, &ctx);
            a.restored = refunds::find(&a, p);
            // Injected probes and dumps follow their requests at the same offset: the
            // findings over the corrected times, tied to the one address they follow.
            let found = detect::run(&a, &ctx, p);
            let (n, ips) = tie::flagged(&a, &mut ctx, &t, &found, false);
            if n > 0 {
                a.notes.push(format!(
                    "{n} flagged statements other than bonus changes (injected probes, \
                     dumps) each follow a request of {} at the offset above, and few \
                     moments chosen at random do: they were tied to those requests. These \
                     links rest on timing alone; review them.",
                    ips.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
            // Reads of customers' records follow their requests at the same offset: each
            // tied to the one client of the routes that issue its kind.
            let n = reads::accounts(&a, &mut ctx, &t);
            if n > 0 {
                a.notes.push(format!(
                    "{n} statements that name an account carry no request id, and the \
                     gateway logs route templates only: each follows, at the offset \
                     above, requests from one client only to routes after most of whose \
                     requests such a statement comes, and was tied to the last of them. \
                     These links rest on timing alone; review them."
                ));
            }
        }
    }
    a.restored = refunds::find(&a, p);
    a.findings = findings(&mut a, &mut ctx, p);
    if !timed {
        // Statements without request ids whose clock accounts compared: injected
        // probes and dumps tied to the address whose requests they follow.
        let (n, ips) = tie::compared(&a, &mut ctx, &a.findings);
        if n > 0 {
            a.notes.push(format!(
                "{n} flagged statements (bonus changes, injected probes, dumps) carry no \
                 request id, and each follows a request of {} within a second of its \
                 corrected time, where few moments chosen at random do: they were tied to \
                 those requests. These links rest on timing alone; review them.",
                ips.into_iter().collect::<Vec<_>>().join(", ")
            ));
            a.findings = findings(&mut a, &mut ctx, p);
        }
    }
    attribute::spread(&mut a, &ctx, p, opts.wave_gap);
    let mut messages = messages::build(&a, &ctx, p);
    bypass::judge(&mut messages, &a, p, opts.wave_gap);
    a.messages = messages;
    messages::attribute_push(&mut a, &ctx);
    let unlogged = unlogged::bonus_requests(&a);
    let found = unlogged::findings(&a, &unlogged);
    a.findings.extend(found);
    attribute::waves(&mut a, &ctx, opts.wave_gap);
    a.notes.extend(rosterzone::unread(&a));
    if let Some(n) = rosterzone::learn(&mut a, p) {
        a.notes.push(n);
    }
    impact::compute(&mut a, &ctx, p, &unlogged);
    attribute::finish_waves(&mut a);
    let (iocs, common) = attribute::iocs(&a);
    a.iocs = iocs;
    a.notes.extend(common);
    a.principals = attribute::principal_places(&a, &ctx, p);
    let places = places::notes(&a, &ctx, p);
    a.notes.extend(places);
    notes(&mut a);
    linknotes::link_notes(&mut a, &ctx);
    let reach = coverage::notes(&a, opts.wave_gap);
    a.notes.extend(reach);
    a
}

/// The detectors' findings; run again when they flag addresses that the principals'
/// first hours made usual places (`places::unlearn`), which then are not.
fn findings(a: &mut Analysis, ctx: &mut enrich::Links, p: &Profile) -> Vec<Finding> {
    let found = detect::run(a, ctx, p);
    match places::unlearn(ctx, p, &found) {
        Some(note) => {
            a.notes.push(note);
            detect::run(a, ctx, p)
        }
        None => found,
    }
}

/// Restores the (time, source, file, line) order after a skew correction, keeping
/// per-event data and the request join aligned. Only a correction can disorder the
/// events; a stable parallel sort keeps ties in order.
fn restore_order(a: &mut Analysis, join: join::RequestJoin) -> join::RequestJoin {
    match resort(a) {
        Some(order) => join.reordered(&order),
        None => join,
    }
}

/// Sorts the events (and their per-event data) again after a clock correction; the
/// permutation (`order[new] = old`), or `None` when they were in order.
fn resort(a: &mut Analysis) -> Option<Vec<usize>> {
    let order = crate::ingest::sort_order(&a.ing.events)?;
    reindex(a, &order);
    Some(order)
}

/// Puts the events and their per-event data in `order` (`order[new] = old`): a
/// permutation, or the events kept when some are dropped.
fn reindex(a: &mut Analysis, order: &[usize]) {
    if order.windows(2).all(|w| w[0] < w[1]) {
        // Events only dropped (copies): the kept ones move over in order; the others
        // are freed on every core (one by one on one, 0.15 s at 700 000 copies).
        let mut keep = vec![false; a.ing.events.len()];
        for &i in order {
            keep[i] = true;
        }
        let all = std::mem::replace(&mut a.ing.events, Vec::with_capacity(order.len()));
        let mut gone = Vec::with_capacity(all.len() - order.len());
        for (e, k) in all.into_iter().zip(&keep) {
            match k {
                true => a.ing.events.push(e),
                false => gone.push(e),
            }
        }
        gone.into_par_iter().for_each(drop);
        let mut k = keep.iter();
        a.targets.retain(|_| *k.next().expect("a target per event"));
        return;
    }
    let ev = std::mem::take(&mut a.ing.events);
    let tg = std::mem::take(&mut a.targets);
    let mut ev: Vec<Option<_>> = ev.into_iter().map(Some).collect();
    a.ing.events = order
        .iter()
        .map(|&i| ev[i].take().expect("each index once"))
        .collect();
    a.targets = order.iter().map(|&i| tg[i]).collect();
}

fn notes(a: &mut Analysis) {
    if let Some(n) = refunds::note(a) {
        a.notes.push(n);
    }
    let kinds: BTreeSet<_> = a.ing.events.iter().map(|e| e.kind()).collect();
    for k in [
        crate::model::SourceKind::Gateway,
        crate::model::SourceKind::Db,
        crate::model::SourceKind::Push,
    ] {
        if !kinds.contains(&k) {
            a.notes.push(format!(
                "No {} evidence was given: findings that need it could not be made.",
                k.as_str()
            ));
        }
    }
    if a.roster.is_none() {
        a.notes.push("No roster was given: whole-table reads expose the accounts seen anywhere in the evidence (a lower bound), and devices map to accounts only through device-registration requests and the device rows the application's database wrote.".into());
    }
    let assumed: u64 = a.ing.files.iter().map(|f| f.tz_assumed).sum();
    if assumed > 0 {
        a.notes.push(format!("{assumed} events carried no time zone; the zone given with --assume-tz (or UTC) was applied."));
        let folded: u64 = a.ing.files.iter().map(|f| f.tz_folded).sum();
        if folded > 0 {
            a.notes.push(format!(
                "{folded} of them fell in the hour a daylight-saving change back repeats, in \
                 its second pass by their order in their file (their times went back there): \
                 they were placed an hour after the first pass. A file whose first pass has \
                 no records cannot show this; its records in that hour were read as the \
                 first pass."
            ));
        }
    }
    if a.ing.events.iter().any(|e| e.truncated) {
        a.notes.push("Some statements were cut by the database's audit logging limit; their analysis is partial.".into());
    }
    if a.messages
        .iter()
        .any(|m| m.recipients.is_empty() && m.recipient_count > 0 && m.audience == 0)
    {
        a.notes.push("Some messages have only provider summaries, no per-device records: their recipients cannot be listed by account.".into());
    }
    // Devices a malicious message reached whose account nothing names: the customers
    // behind them are affected but missing from the account lists.
    // Each delivered device, and whether an account is known for it.
    let reached: BTreeMap<&str, bool> = (a.messages.iter().filter(|m| m.malicious))
        .flat_map(|m| m.recipients.iter().filter(|r| r.ok))
        .map(|r| (r.device.as_str(), r.account.is_some()))
        .collect();
    let unnamed = reached.values().filter(|named| !**named).count();
    if unnamed > 0 {
        let how = if a.roster.is_some() {
            "the roster lists none of them"
        } else {
            "no roster was given"
        };
        a.notes.push(format!(
            "{} of the {} devices malicious messages were delivered to map to no account \
             ({how}, and no device registration in the evidence names one): their \
             customers are not in the affected-customer counts. message-recipients.csv \
             lists each by device id, for a follow-up through the provider or the \
             application's device table.",
            unnamed,
            reached.len()
        ));
    }
}

/// A PostgreSQL statement as an application's DB event, analysed (for unit tests).
#[cfg(test)]
pub(crate) fn test_statement(text: &str) -> crate::model::Event {
    use crate::model::{Event, SourceKind};
    let mut e = Event::new(SourceKind::Db, "pg-stderr");
    let (class, facts) = crate::sql::analyze(
        text,
        &[],
        crate::sql::Dialect::Postgres,
        &Default::default(),
    );
    e.stmt_class = Some(class);
    e.sql = Some(Box::new(facts));
    e
}
