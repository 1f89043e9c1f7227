//! Enrichment and links: what each event touches (bonus, customer data, push), which
//! account it concerns, whether its subject is a staff principal or a customer, and the
//! indexes that join sources — request ids, campaign ids, devices, DB identities, places.

use super::dbindex::DbIndexes;
use super::join::RequestJoin;
use super::paths::{path_account, path_device, query_account, row_device};
use super::usual::PlaceStats;
use super::Analysis;
use crate::model::{text, Event, Outcome, SourceKind, StmtClass, Text};
use crate::profile::{Profile, Target};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// The target of a DB event: its table's system, when the statement writes, exposes rows
/// (whole table or named accounts) or changes schema or roles.
pub fn db_target(e: &Event, p: &Profile) -> Option<Target> {
    let f = e.sql.as_deref();
    let tables: Vec<&str> = match f {
        Some(f) if !f.tables.is_empty() => f.tables.iter().map(Text::as_str).collect(),
        _ => e
            .object
            .as_deref()
            .map(|o| o.rsplit('.').next().unwrap_or(o))
            .into_iter()
            .collect(),
    };
    let relevant = match e.stmt_class {
        Some(StmtClass::Write) | Some(StmtClass::Ddl) => true,
        Some(StmtClass::Read) => f.is_some_and(|f| f.whole_table_read || !f.account_ids.is_empty()),
        _ => false,
    };
    if !relevant || e.extra.contains_key("table_access") {
        return None;
    }
    // A statement that changed a bonus balance touched the bonus system, whatever its
    // table is called (`wallets`, `club_members`): the statement analysis found the
    // balance column, and the table's name may carry only a customer word.
    let mut best: Option<Target> = f
        .filter(|f| !f.bonus_changes.is_empty())
        .map(|_| Target::Bonus);
    for t in tables {
        if let Some(x) = p.table_target(t) {
            best = Some(match (best, x) {
                (Some(Target::Push), _) | (_, Target::Push) => Target::Push,
                (Some(Target::Bonus), _) | (_, Target::Bonus) => Target::Bonus,
                _ => x,
            });
        }
    }
    best
}

/// Fills targets, accounts and principals.
pub fn enrich(a: &mut Analysis, p: &Profile) {
    // Staff principals: subjects seen on staff routes, plus those the profile names.
    let mut staff: HashSet<Text> = p
        .known_good
        .staff_principals
        .iter()
        .map(|s| Text::from(s.as_str()))
        .collect();
    let learned = super::paths::learn(&a.ing.events, a.roster.as_ref(), p);
    if !learned.sorted().is_empty() {
        let segs: Vec<String> = learned.sorted().iter().map(|s| format!("`{s}`")).collect();
        a.notes.push(format!(
            "Request paths were read as naming accounts after {} as well as after customer \
             words: in this evidence the values that follow are accounts the roster, the \
             database's statements or the gateway's signed-in subjects know, each requested \
             from few addresses.",
            segs.join(", ")
        ));
    }
    // The route tests run on every request: in parallel, keeping event order.
    let ev = &a.ing.events;
    let (staff_users, registrations): (Vec<Text>, Vec<(String, Text)>) = rayon::join(
        || {
            ev.par_iter()
                .filter(|e| e.kind() == SourceKind::Gateway)
                .filter_map(|e| {
                    let path = e.route.as_deref().or(e.path.as_deref()).unwrap_or("");
                    e.user.clone().filter(|_| p.is_staff_route(path))
                })
                .collect()
        },
        || {
            // Devices registered through the API, or rows the application inserted that
            // name a device and one account (a device table's registration, a push
            // log's line): device → account.
            ev.par_iter()
                .filter(|e| e.outcome != Outcome::Failure)
                .filter_map(|e| match e.kind() {
                    SourceKind::Gateway => {
                        let path = e.path.as_deref().unwrap_or("");
                        if !p.is_device_route(path) {
                            return None;
                        }
                        Some((
                            path_device(path, p)?,
                            path_account(e.route.as_deref(), path, p, &learned)
                                .or(e.user.clone())?,
                        ))
                    }
                    SourceKind::Db => {
                        let f = e.sql.as_deref()?;
                        let [acc] = &*f.account_ids else { return None };
                        Some((row_device(f.row.as_deref()?)?.to_string(), acc.clone()))
                    }
                    SourceKind::Push => None,
                })
                .collect()
        },
    );
    staff.extend(staff_users);
    // The account each request's path names, read once for the subjects and the
    // requests' own accounts.
    let path_accounts: Vec<Option<Text>> = ev
        .par_iter()
        .map(|e| match e.kind() {
            SourceKind::Gateway => {
                let path = e.path.as_deref().unwrap_or("");
                path_account(e.route.as_deref(), path, p, &learned)
            }
            _ => None,
        })
        .collect();
    let own = super::subjects::accounts(ev, &path_accounts, a.roster.as_ref(), &staff);
    if !own.is_empty() {
        a.notes.push(format!(
            "{} signed-in subject(s) the gateway logs are not account ids (an identity \
             provider's user ids, e-mail addresses); each was read as the account the roster \
             gives it or, failing that, the one its own requests name far most often. The \
             subject as logged is kept as `subject`.",
            own.len()
        ));
    }
    let mut reg: HashMap<String, Text> = HashMap::new();
    for (d, acc) in registrations {
        reg.entry(d).or_insert(acc);
    }
    let roster = a.roster.as_ref();
    // A route template's target is computed once per worker task (templates repeat on
    // every request; concrete paths are tested as they come).
    a.targets = a
        .ing
        .events
        .par_iter_mut()
        .zip(path_accounts)
        .map_init(
            HashMap::<Text, Option<Target>>::new,
            |by_route, (e, path_account)| match e.kind() {
                SourceKind::Gateway => {
                    if let Some(acc) = e.user.as_deref().and_then(|u| own.get(u)) {
                        let logged = e.user.replace(acc.clone());
                        if let Some(u) = logged {
                            e.extra.insert("subject", u);
                        }
                    }
                    let path = e.path.as_deref().unwrap_or("");
                    let is_staff = e.user.as_ref().is_some_and(|u| staff.contains(u));
                    let account = path_account
                        .or_else(|| query_account(e.query.as_deref(), p))
                        .or_else(|| e.user.clone().filter(|_| !is_staff));
                    let target = match &e.route {
                        Some(r) => match by_route.get(r.as_str()) {
                            Some(t) => *t,
                            None => *by_route.entry(r.clone()).or_insert(p.route_target(r)),
                        },
                        None => p.route_target(path),
                    };
                    if is_staff {
                        e.principal = e.user.clone();
                    }
                    e.account_id = account;
                    target
                }
                SourceKind::Db => {
                    if let Some(f) = &e.sql {
                        if f.account_ids.len() == 1 {
                            // The statement's own shared string, not a copy of it.
                            e.account_id = Some(f.account_ids[0].clone());
                        }
                    }
                    db_target(e, p)
                }
                SourceKind::Push => {
                    let acc = e
                        .push()
                        .device_id
                        .as_deref()
                        .and_then(|d| {
                            roster
                                .and_then(|r| r.account_of(d))
                                .map(Text::from)
                                .or_else(|| reg.get(d).cloned())
                        })
                        .or_else(|| {
                            e.user
                                .as_deref()
                                .and_then(|u| roster.and_then(|r| r.account_of(u)).map(Text::from))
                                .or(e.user.clone())
                        });
                    e.account_id = acc;
                    Some(Target::Push)
                }
            },
        )
        .collect();
}

/// Join indexes over the (sorted, skew-corrected) events.
#[derive(Debug, Default)]
pub struct Links {
    /// DB statement → the gateway request carrying its request id.
    pub by_request: RequestJoin,
    /// Request id → DB events.
    pub db_by_req: HashMap<Text, Vec<usize>>,
    /// DB client hosts of the application: those that tag statements with request ids,
    /// and those issuing a large share of all statements (a busy service pool).
    pub app_hosts: HashSet<Text>,
    /// DB users of the application (same rule), for logs that carry no client host.
    pub app_users: HashSet<Text>,
    /// Gateway events by the account they concern, in time order (for links by account
    /// and time when statements carry no request id).
    pub gw_by_account: HashMap<Text, Vec<usize>>,
    /// Times of gateway requests with a method that changes state (POST, PUT, …), by client
    /// address, in time order.
    pub gw_writes_by_ip: HashMap<Text, Vec<i64>>,
    /// Changing requests that name no account, as (time, client address), in time order:
    /// the owners of accounts no request names send these (`owner_busy`).
    pub gw_anon_writes: Vec<(i64, Text)>,
    /// Per event: the gateway request a DB statement came from, if any.
    pub db_origin: Vec<Option<usize>>,
    /// DB statements whose origin rests on timing alone (`timing::link`).
    pub timed: BTreeSet<usize>,
    /// DB statements tied to the listing request that asked for the page they read
    /// (`pagetie`).
    pub paged: BTreeSet<usize>,
    /// DB identities (user, host) counted as the application's because their statements
    /// follow gateway requests (`served`).
    pub served: Vec<(Text, Text)>,
    /// Principal → address → its use of the address.
    pub places: BTreeMap<Text, BTreeMap<Text, PlaceStats>>,
    /// Principal → first activity.
    pub principal_first: HashMap<Text, i64>,
    /// (principal, address) pairs the first hours made usual at an address other
    /// findings flag (`places::unlearn`): not usual places.
    pub unlearned: BTreeSet<(Text, Text)>,
    /// Address → UTC days on which it sent staff-route requests that succeeded, with no
    /// signed-in identity logged (gateways that log none: Envoy, nginx `combined`), or
    /// as a principal at a place it used on two or more days.
    pub staff_addresses: HashMap<Text, HashSet<i64>>,
    /// (db user, host) → days seen.
    pub db_identities: HashMap<(Text, Text), HashSet<i64>>,
    /// First event time.
    pub t0: i64,
}

impl Links {
    /// Builds the indexes. The gateway indexes, the DB indexes and the places are
    /// independent passes and run side by side; each is built in event order, so the
    /// result does not depend on thread timing.
    pub fn build(a: &Analysis, p: &Profile, by_request: RequestJoin) -> Links {
        let ev = &a.ing.events;
        let ((gw, db_by_req), (db, (places, principal_first))) = rayon::join(
            || rayon::join(|| gateway_index(ev), || db_by_request(ev)),
            || rayon::join(|| DbIndexes::build(ev), || super::usual::places(ev)),
        );
        let staff_addresses = super::usual::staff_addresses(ev, p, &places);
        let mut l = Links {
            t0: ev.first().map(|e| e.ts).unwrap_or(0),
            by_request,
            gw_by_account: gw.by_account,
            gw_writes_by_ip: gw.writes,
            gw_anon_writes: gw.anon_writes,
            db_by_req,
            app_hosts: db.app_hosts,
            app_users: db.app_users,
            places,
            principal_first,
            unlearned: BTreeSet::new(),
            staff_addresses,
            db_identities: db.identities,
            db_origin: Vec::new(),
            timed: BTreeSet::new(),
            paged: BTreeSet::new(),
            served: Vec::new(),
        };
        // Quiet services of the application (a back office with its own login): their
        // statements follow requests.
        l.served = super::served::learn(ev, |e| l.is_app_db(e));
        for (u, h) in &l.served {
            match h.is_empty() {
                true => l.app_users.insert(u.clone()),
                false => l.app_hosts.insert(h.clone()),
            };
        }
        // Origins: request id; else the later of two requests: the one of the same
        // account and time, and the one the previous statement of the same application
        // session (within 2 s) belonged to, if it could have made this statement (a
        // pooled connection serves the next request seconds later; see `could_follow`
        // and `handed_on`); for a bonus change still without one, the request of the
        // other half of its operation next on the session. The first two are lookups,
        // made in parallel; the session rules follow the statements in order, then back.
        let direct: Vec<(usize, Option<usize>, bool)> = (0..ev.len())
            .into_par_iter()
            .filter(|&i| ev[i].kind() == SourceKind::Db)
            .map(|i| {
                let e = &ev[i];
                let fallback = e.request_id.is_none() && e.session_id.is_some() && l.is_app_db(e);
                (i, l.origin_of_ev(ev, i), fallback)
            })
            .collect();
        let mut origin = vec![None; ev.len()];
        // Session → (time, request, statement) of its last statement with an origin.
        let mut last: HashMap<&str, (i64, usize, usize)> = HashMap::new();
        for &(i, mut o, fallback) in &direct {
            let e = &ev[i];
            if fallback && l.origin_of(i).is_none() {
                let session = e
                    .session_id
                    .as_deref()
                    .and_then(|s| last.get(s))
                    .filter(|(t, g, prev)| {
                        e.ts - t <= 2_000_000
                            && l.could_follow(e, &ev[*g])
                            && !handed_on(ev, *t, e, &ev[*g])
                            && (other_half(&ev[*prev], e) || !l.owner_busy(ev, e, &ev[*g]))
                    })
                    .map(|x| x.1);
                // Both rules name a request: the later one made the statement. A
                // transfer's credit names the receiver, whose own request (a login
                // twenty seconds before) did not write it; the sender's transfer, whose
                // debit came just before on this connection, did.
                o = match (o, session) {
                    (Some(a), Some(b)) if ev[b].ts > ev[a].ts => Some(b),
                    (None, b) => b,
                    (a, _) => a,
                };
            }
            if let (Some(g), Some(s)) = (o, e.session_id.as_deref()) {
                last.insert(s, (e.ts, g, i));
            }
            origin[i] = o;
        }
        // A transfer debits an account no request names, then credits the caller's own:
        // the credit's request made the debit too. A bonus change nothing else ties takes
        // the request of the next statement on its session, within a second, when that
        // statement is the other half of its operation (the opposite change) or its own
        // ledger row (the same change of the same account) — not any statement that
        // follows: another request's statements may come next in the same second.
        let mut next: HashMap<&str, (i64, usize, Option<Change>)> = HashMap::new();
        for &(i, _, fallback) in direct.iter().rev() {
            let e = &ev[i];
            let Some(s) = e.session_id.as_deref() else {
                continue;
            };
            let change = change_of(e);
            if let (true, None, Some((acc, d))) = (fallback, origin[i], change) {
                origin[i] = next.get(s).and_then(|&(t, g, c)| {
                    let r = &ev[g];
                    let half = c.is_some_and(|(a2, d2)| d2 == -d || (a2 == acc && d2 == d));
                    (half
                        && t - e.ts <= 1_000_000
                        && r.ts <= e.ts + 1_000_000
                        && l.could_follow(e, r))
                    .then_some(g)
                });
            }
            match origin[i] {
                Some(g) => next.insert(s, (e.ts, g, change)),
                None => next.remove(s),
            };
        }
        // Page reads that name no account: the request that asked for that page.
        l.paged = super::pagetie::tie(ev, &mut origin, |e| {
            e.request_id.is_none() && l.is_app_db(e)
        });
        l.db_origin = origin;
        let _ = p;
        l
    }

    /// The gateway request DB event `i` came from.
    pub fn origin(&self, i: usize) -> Option<usize> {
        self.db_origin.get(i).copied().flatten()
    }

    /// Whether a DB event comes from the application's pool rather than a direct session.
    ///
    /// A statement that names neither user nor client host (PostgreSQL's default
    /// `log_line_prefix`, a session whose connection was made before the log begins) is
    /// counted as the pool's: nothing shows that its session is anyone's own, and taking
    /// a pooled connection for the attacker's would make everything it served, for days,
    /// the attacker's. Its flagged statements still are (`attribute::spread`).
    pub fn is_app_db(&self, e: &Event) -> bool {
        e.request_id.is_some()
            || match (&e.db_host, &e.db_user) {
                (Some(h), _) => self.app_hosts.contains(h),
                (None, Some(u)) => self.app_users.contains(u),
                (None, None) => true,
            }
    }

    /// Whether a DB event is the pool's only because it names nobody: no request id,
    /// user or client host (`is_app_db`).
    pub fn anonymous(e: &Event) -> bool {
        e.request_id.is_none() && e.db_host.is_none() && e.db_user.is_none()
    }

    /// Whether a DB identity (user, host) is routine: known-good, or seen on two days.
    pub fn routine_db(&self, user: Option<&str>, host: Option<&str>, p: &Profile) -> bool {
        if p.is_service_db(user, host) {
            return true;
        }
        match user {
            Some(u) => self
                .db_identities
                .get(&(text(u), text(host.unwrap_or_default())))
                .is_some_and(|d| d.len() >= 2),
            None => false,
        }
    }

    /// The gateway event DB event `i` came from (by request id).
    pub fn origin_of(&self, i: usize) -> Option<usize> {
        self.by_request.request_of(i)
    }

    /// The gateway request a DB event most likely came from: by request id, or — for
    /// application statements without one — the closest request concerning the same
    /// account in the minute before (to 1 s after) the statement. A minute, not the
    /// application's latency: where the gateway names accounts only in some paths (a
    /// balance page, then a transfer whose body names the account), the request that
    /// names the account comes seconds before the one that made the statement.
    pub fn origin_of_ev(&self, events: &[Box<Event>], i: usize) -> Option<usize> {
        if let Some(g) = self.origin_of(i) {
            return Some(g);
        }
        let e = &events[i];
        if e.request_id.is_some() || !self.is_app_db(e) {
            return None;
        }
        let accounts: Vec<&str> = match &e.sql {
            Some(f) if !f.account_ids.is_empty() => {
                f.account_ids.iter().map(Text::as_str).collect()
            }
            _ => e.account_id.as_deref().into_iter().collect(),
        };
        let mut best: Option<(i64, usize)> = None;
        for acc in accounts {
            let Some(list) = self.gw_by_account.get(acc) else {
                continue;
            };
            let lo = list.partition_point(|&g| events[g].ts < e.ts - 60_000_000);
            for &g in &list[lo..] {
                let d = e.ts - events[g].ts;
                if d < -1_000_000 {
                    break;
                }
                if best.is_none_or(|(bd, _)| d.abs() < bd) && self.could_make(e, &events[g]) {
                    best = Some((d.abs(), g));
                }
            }
        }
        best.map(|(_, g)| g)
    }

    /// Whether a statement on a pooled session can belong to the request of the
    /// statement before it: one that could write it (`could_write`), and, for a read of
    /// a whole table, not a request made as one customer's account — a customer's
    /// request reads that customer's rows; the export on the connection it just used is
    /// the next request's.
    fn could_follow(&self, stmt: &Event, req: &Event) -> bool {
        let whole = stmt.sql.as_ref().is_some_and(|f| f.whole_table_read);
        self.could_write(stmt, req) && !(whole && req.account_id.is_some())
    }

    /// Whether a request about the statement's account can stand for the request that
    /// made it. A request that changes nothing (GET, HEAD, OPTIONS) does not make a write,
    /// unless its client sent a changing request just before the statement: the balance
    /// page that names the account, then the transfer that does not. Otherwise the write
    /// is someone else's — the customer's own order, seconds after an enumeration read of
    /// their record.
    fn could_write(&self, stmt: &Event, req: &Event) -> bool {
        if stmt.stmt_class != Some(StmtClass::Write) || !req.method.as_deref().is_some_and(is_safe)
        {
            return true;
        }
        self.wrote_just_before(stmt, req)
    }

    /// `could_write`, for a request found by the statement's account alone: a changing
    /// request too must have been sent within the application's latency of the write
    /// (its own logged latency widens it), or its client another one then. A customer's
    /// sign-in a minute before did not make the transfer that debited their account
    /// through another account's request (an insecure direct object reference).
    fn could_make(&self, stmt: &Event, req: &Event) -> bool {
        let changing = req.method.as_deref().is_some_and(|m| !is_safe(m));
        let late = stmt.ts - req.ts > WRITE_BEFORE_US.saturating_add(req.latency_us());
        if stmt.stmt_class == Some(StmtClass::Write) && changing && late {
            return self.wrote_just_before(stmt, req);
        }
        self.could_write(stmt, req)
    }

    /// Whether a statement on a pooled session is another client's although the
    /// session's previous statement was `req`'s: it names an account `req` does not, and
    /// a client seen acting on that account (another address than `req`'s) sent a
    /// changing request within the application's latency before it — or, for an account
    /// no request names, another client sent one that names no account. A connection
    /// handed on within the same millisecond shows no pause (`handed_on`): the
    /// customer's checkout right after the attacker's promotion code on one connection
    /// is the customer's. A transfer's credit to the caller's own account stays the caller's:
    /// that account's client is the caller; and the credit of a transfer's debit stays
    /// with the debit's request whoever is busy on the receiving account (`other_half`).
    fn owner_busy(&self, ev: &[Box<Event>], stmt: &Event, req: &Event) -> bool {
        let (Some(acc), Some(own)) = (stmt.account_id.as_deref(), req.account_id.as_deref()) else {
            return false;
        };
        if acc == own {
            return false;
        }
        let Some(seen) = self.gw_by_account.get(acc) else {
            // No request names the account (a checkout whose body carries it, on a gateway
            // that logs no identity): its owner's requests name none either. Another
            // client's changing request that names no account, within the application's
            // latency, may be the owner's: the statement is not `req`'s, which named
            // another account.
            let near = write_window(stmt.ts);
            let w = &self.gw_anon_writes;
            let lo = w.partition_point(|(t, _)| t < near.start());
            return w[lo..]
                .iter()
                .take_while(|(t, _)| near.contains(t))
                .any(|(_, ip)| Some(ip.as_str()) != req.client_ip.as_deref());
        };
        let mut asked: HashSet<&str> = HashSet::new();
        seen.iter()
            .filter_map(|&g| ev[g].client_ip.as_deref())
            .filter(|&ip| Some(ip) != req.client_ip.as_deref() && asked.insert(ip))
            .any(|ip| (self.gw_writes_by_ip.get(ip)).is_some_and(|ts| wrote_within(ts, stmt.ts)))
    }

    /// Whether the request's client sent a changing request in the moments before the
    /// statement (true when the request names no client).
    fn wrote_just_before(&self, stmt: &Event, req: &Event) -> bool {
        let Some(ip) = &req.client_ip else {
            return true;
        };
        (self.gw_writes_by_ip.get(ip)).is_some_and(|ts| wrote_within(ts, stmt.ts))
    }
}

/// How long before its statement a changing request may have been sent (the
/// application's latency, with room).
const WRITE_BEFORE_US: i64 = 5_000_000;

/// When a changing request behind a statement at `at` may have been logged: up to
/// `WRITE_BEFORE_US` before it, and a second after (a DB that logs whole seconds).
fn write_window(at: i64) -> std::ops::RangeInclusive<i64> {
    at - WRITE_BEFORE_US..=at + 1_000_000
}

/// Whether one of a client's changing requests (`ts`, in time order) falls in the
/// write window of a statement at `at`.
fn wrote_within(ts: &[i64], at: i64) -> bool {
    let near = write_window(at);
    let lo = ts.partition_point(|t| t < near.start());
    ts.get(lo).is_some_and(|t| near.contains(t))
}

/// Whether a pooled connection was handed to another request between a statement of
/// `req` at `prev` and `stmt`: a pause of a second or more (one request's statements
/// come within one; a DB that logs whole seconds shows a pause of a few milliseconds to
/// two seconds as one), during which another client sent a changing request — up to a
/// second after `stmt`, for such a DB. The customer's order two seconds after the
/// attacker's transfer on the same connection, or in the next second of a log in whole
/// seconds, is the customer's, not the transfer's.
fn handed_on(ev: &[Box<Event>], prev: i64, stmt: &Event, req: &Event) -> bool {
    if stmt.ts - prev < 1_000_000 {
        return false;
    }
    let from = ev.partition_point(|x| x.ts <= prev);
    ev[from..]
        .iter()
        .take_while(|x| x.ts <= stmt.ts + 1_000_000)
        .any(|x| {
            x.kind() == SourceKind::Gateway
                && x.method.as_deref().is_some_and(|m| !is_safe(m))
                && x.client_ip != req.client_ip
        })
}

/// Whether a statement is the other half of the change before it on its session: the
/// opposite amount (a transfer's credit after its debit, whatever accounts they name),
/// or the same account's (the ledger row of a balance update).
fn other_half(prev: &Event, stmt: &Event) -> bool {
    matches!((change_of(prev), change_of(stmt)),
        (Some((x, a)), Some((y, b))) if a == -b || x == y)
}

/// A relative bonus change: (account, signed points).
type Change<'a> = (&'a str, i64);

/// A statement's one relative bonus change.
fn change_of(e: &Event) -> Option<Change<'_>> {
    match e.sql.as_deref().map(|f| &*f.bonus_changes) {
        Some([c]) if !c.absolute && c.delta != 0 => Some((&c.account_id, c.delta)),
        _ => None,
    }
}

/// Methods that change nothing (RFC 9110 safe methods).
pub(super) fn is_safe(m: &str) -> bool {
    ["GET", "HEAD", "OPTIONS"]
        .iter()
        .any(|s| m.eq_ignore_ascii_case(s))
}

/// The gateway's indexes of `Links`, built in one pass.
#[derive(Default)]
struct GatewayIndex {
    /// Account → gateway events in time order.
    by_account: HashMap<Text, Vec<usize>>,
    /// Client address → times of its requests that change state.
    writes: HashMap<Text, Vec<i64>>,
    /// (time, client address) of changing requests that name no account.
    anon_writes: Vec<(i64, Text)>,
}

/// Builds the gateway's indexes (events are in time order, so every list is too).
fn gateway_index(ev: &[Box<Event>]) -> GatewayIndex {
    let mut x = GatewayIndex::default();
    for (i, e) in ev.iter().enumerate() {
        if e.kind() == SourceKind::Gateway {
            if let Some(acc) = &e.account_id {
                x.by_account.entry(acc.clone()).or_default().push(i);
            }
            if let (Some(m), Some(ip)) = (&e.method, &e.client_ip) {
                if !is_safe(m) {
                    x.writes.entry(ip.clone()).or_default().push(e.ts);
                    if e.account_id.is_none() {
                        x.anon_writes.push((e.ts, ip.clone()));
                    }
                }
            }
        }
    }
    x
}

/// Request id → DB events, in event order: a pass of its own, beside the other link
/// indexes (in the pass of the DB indexes it made that the longest of them).
fn db_by_request(ev: &[Box<Event>]) -> HashMap<Text, Vec<usize>> {
    let mut by_req: HashMap<Text, Vec<usize>> = HashMap::new();
    for (i, e) in ev.iter().enumerate() {
        if e.kind() != SourceKind::Db {
            continue;
        }
        if let Some(r) = &e.request_id {
            // Cloned (an atomic increment) only for a new key.
            match by_req.get_mut(r.as_str()) {
                Some(v) => v.push(i),
                None => {
                    by_req.insert(r.clone(), vec![i]);
                }
            }
        }
    }
    by_req
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::correlate::test_statement as statement;

    fn request(ts: i64, ip: &str, method: &str) -> Box<Event> {
        let mut e = Event::new(SourceKind::Gateway, "envoy");
        e.ts = ts;
        e.client_ip = Some(ip.into());
        e.method = Some(method.into());
        Box::new(e)
    }

    #[test]
    fn a_statement_in_the_next_whole_second_may_be_another_client_s() {
        // A DB that logs whole seconds: the attacker's statement at :34, a customer's
        // order (sent at :35.688) written at :35 on the same pooled connection. A logged
        // pause of one second is anything from milliseconds to two seconds.
        let s = 1_000_000;
        let attacker = request(34 * s, "203.0.113.14", "POST");
        let ev = vec![
            attacker.clone(),
            request(35 * s + 688_000, "100.110.99.74", "POST"),
        ];
        let mut stmt = statement("UPDATE wallets SET points = points + 50 WHERE id = 7");
        stmt.ts = 35 * s;
        assert!(handed_on(&ev, 34 * s, &stmt, &attacker));
        // Within the same logged second it is the same request's; with no other client
        // writing then, the pause hands nothing on.
        assert!(!handed_on(&ev, 35 * s - 1, &stmt, &attacker));
        assert!(!handed_on(&ev[..1], 34 * s, &stmt, &attacker));
    }

    #[test]
    fn a_balance_change_is_bonus_whatever_the_table_is_called() {
        let p = Profile::default();
        // `members` carries a customer word only; its points column makes the change.
        let e = statement("UPDATE members SET points = points + 500 WHERE id = 7");
        assert_eq!(db_target(&e, &p), Some(Target::Bonus));
        // A write to the same table that changes no balance stays customer data.
        let e = statement("UPDATE members SET phone = '+380671234567' WHERE id = 7");
        assert_eq!(db_target(&e, &p), Some(Target::CustomerData));
        assert_eq!(
            p.route_target("/api/v2/wallet/transfer"),
            Some(Target::Bonus)
        );
    }
}
