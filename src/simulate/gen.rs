//! Day-by-day generation of the simulated incident: background traffic (logins, menu,
//! orders with bonus accruals, redemptions, transfers, device registrations, staff admin
//! work, the nightly analytics export, marketing pushes, a legitimate broadcast) and, on
//! the attack day, wave 1 (credential stuffing and bonus fraud) and wave 2 (stolen staff
//! credential, enumeration, export, malicious broadcast).

use super::rng::Rng;
use super::scenario::*;

const APP_HOSTS: &[&str] = &["10.0.1.11", "10.0.1.12"];

/// Per-day generator state.
pub struct Gen<'w> {
    /// The world (balances evolve).
    pub w: &'w mut World,
    /// Day output.
    pub day: Day,
    pub(super) r: Rng,
    /// Accumulated truth: (account index, delta) of attacker balance changes.
    pub bonus_truth: Vec<(usize, i64, u8)>,
    /// Accounts read one by one by the attacker (index, wave).
    pub enumerated: Vec<(usize, u8)>,
    /// Times of attacker whole-table reads.
    pub exports: Vec<(Us, u8)>,
}

impl<'w> Gen<'w> {
    /// A generator for day `d`.
    pub fn new(w: &'w mut World, seed: u64, d: u32) -> Gen<'w> {
        let mut root = Rng::new(seed);
        let r = root.fork(d as u64 + 1);
        Gen {
            w,
            day: Day::default(),
            r,
            bonus_truth: Vec::new(),
            enumerated: Vec::new(),
            exports: Vec::new(),
        }
    }

    // Record constructors take the record's fields; a builder would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn req(
        &mut self,
        ts: Us,
        ip: &str,
        ua: &str,
        method: &'static str,
        route: &'static str,
        path: String,
        status: u16,
        subject: Option<String>,
        wave: u8,
    ) -> String {
        let id = self.r.uuid();
        let bytes = match status {
            200 | 201 => self.r.range(200, 4000) as u64,
            _ => self.r.range(20, 120) as u64,
        };
        let (route, path) = (self.w.names.route(route), self.w.names.path(path));
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (path, None),
        };
        self.day.reqs.push(Req {
            ts,
            id: id.clone(),
            ip: ip.to_string(),
            ua: ua.to_string(),
            method,
            route,
            path,
            query,
            status,
            bytes,
            latency: self.r.range(8, 180) as u32,
            subject,
            wave,
        });
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn stmt(
        &mut self,
        ts: Us,
        user: &'static str,
        host: &str,
        pid: u32,
        class: &'static str,
        command: &'static str,
        object: &str,
        text: String,
        params: Vec<String>,
        wave: u8,
    ) {
        let (object, text) = (self.w.names.sql(object.to_string()), self.w.names.sql(text));
        self.day.stmts.push(Stmt {
            ts,
            user,
            host: host.to_string(),
            pid,
            text,
            params,
            class,
            command,
            object,
            kind: SKind::Stmt,
            wave,
            concatenated: false,
        });
    }

    /// Marks the last statement as built from the request's input (no bound values).
    pub(super) fn concatenated(&mut self) {
        if let Some(s) = self.day.stmts.last_mut() {
            s.concatenated = true;
        }
    }

    /// An app statement tagged with its request id (sqlcommenter).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn app(
        &mut self,
        ts: Us,
        rid: &str,
        class: &'static str,
        command: &'static str,
        object: &str,
        sql: &str,
        params: Vec<String>,
        wave: u8,
    ) {
        // One pooled connection serves one request: its statements share a backend.
        let slot = rid
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32))
            % 16;
        let host = APP_HOSTS[(slot % 2) as usize];
        let pid = 20_000 + slot / 2 + if host.ends_with("12") { 100 } else { 0 };
        let text = if self.w.tagged {
            format!("{sql} /*request_id='{rid}',application='loyalty-api'*/")
        } else {
            sql.to_string()
        };
        self.stmt(
            ts,
            "loyalty_app",
            host,
            pid,
            class,
            command,
            object,
            text,
            params,
            wave,
        );
    }

    /// A login request and the application's lookup of the login name it carries.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn login(
        &mut self,
        ts: Us,
        ip: &str,
        ua: &str,
        status: u16,
        subject: Option<String>,
        phone: String,
        wave: u8,
    ) {
        let rid = self.req(
            ts,
            ip,
            ua,
            "POST",
            "/api/v1/auth/login",
            "/api/v1/auth/login".into(),
            status,
            subject,
            wave,
        );
        self.app(
            ts + 3_000,
            &rid,
            "READ",
            "SELECT",
            "public.customers",
            "SELECT id, password_hash FROM customers WHERE phone = $1",
            vec![phone],
            wave,
        );
    }

    /// `subject` reads `account`'s bonus balance: the request and its lookup.
    pub(super) fn bonus_read(
        &mut self,
        ts: Us,
        ip: &str,
        ua: &str,
        account: &str,
        subject: &str,
        wave: u8,
    ) {
        let read = (
            "/api/v1/accounts/{accountId}/bonus",
            "public.bonus_accounts",
        );
        let sql = "SELECT balance, tier FROM bonus_accounts WHERE account_id = $1";
        self.account_read(ts, (ip, ua), read, sql, account, subject, wave);
    }

    /// `subject` reads `account`'s profile (personal data): the request and its lookup.
    pub(super) fn profile_read(
        &mut self,
        ts: Us,
        ip: &str,
        ua: &str,
        account: &str,
        subject: &str,
        wave: u8,
    ) {
        let read = ("/api/v1/customers/{customerId}/profile", "public.customers");
        let sql = "SELECT id, name, email, phone FROM customers WHERE id = $1";
        self.account_read(ts, (ip, ua), read, sql, account, subject, wave);
    }

    /// `subject`'s GET of `route` (its `{…}` the account) and the lookup of `account` in
    /// `table` it makes.
    #[allow(clippy::too_many_arguments)]
    fn account_read(
        &mut self,
        ts: Us,
        (ip, ua): (&str, &str),
        (route, table): (&'static str, &str),
        sql: &str,
        account: &str,
        subject: &str,
        wave: u8,
    ) {
        let path = match (route.find('{'), route.find('}')) {
            (Some(a), Some(b)) => format!("{}{account}{}", &route[..a], &route[b + 1..]),
            _ => route.to_string(),
        };
        let rid = self.req(
            ts,
            ip,
            ua,
            "GET",
            route,
            path,
            200,
            Some(subject.to_string()),
            wave,
        );
        self.app(
            ts + 3_000,
            &rid,
            "READ",
            "SELECT",
            table,
            sql,
            vec![account.to_string()],
            wave,
        );
    }

    pub(super) fn bonus_change(
        &mut self,
        ts: Us,
        rid: &str,
        cust: usize,
        delta: i64,
        reason: &str,
        wave: u8,
    ) {
        let id = self.w.customers[cust].id.clone();
        self.w.customers[cust].balance += delta;
        let op = if delta >= 0 { "+" } else { "-" };
        self.app(
            ts,
            rid,
            "WRITE",
            "UPDATE",
            "public.bonus_accounts",
            &format!("UPDATE bonus_accounts SET balance = balance {op} $1, updated_at = now() WHERE account_id = $2"),
            vec![delta.abs().to_string(), id.clone()],
            wave,
        );
        self.app(
            ts + 2_000,
            rid,
            "WRITE",
            "INSERT",
            "public.bonus_ledger",
            &format!("INSERT INTO bonus_ledger (account_id, delta, reason) VALUES ({id}, {delta}, '{reason}')"),
            vec![],
            wave,
        );
        if wave > 0 {
            self.bonus_truth.push((cust, delta, wave));
        }
    }

    pub(super) fn existing(&mut self, ts: Us) -> usize {
        loop {
            let i = self.r.below(self.w.customers.len() as u64) as usize;
            if self.w.customers[i].created < ts && !self.w.attacker_owned.contains(&i) {
                return i;
            }
        }
    }

    /// Generates day `d`.
    pub fn run(&mut self, d: u32) {
        let day0 = self.w.start + d as i64 * D;
        let sessions = (2000.0 * self.w.scale) as usize;
        for _ in 0..sessions {
            // Diurnal: most activity 05:00–20:00 UTC (Kyiv daytime).
            let hour = if self.r.chance(0.9) {
                self.r.range(5, 19)
            } else {
                self.r.range(0, 23)
            };
            let ts = day0 + hour * H + self.r.range(0, H / S - 1) * S + self.r.range(0, 999) * 1000;
            self.session(ts);
        }
        self.registrations(day0);
        self.staff_day(d, day0);
        self.nightly(day0);
        self.pushes(d, day0);
        if let Some(seed) = self.w.noise {
            self.noise(seed, d, day0);
        }
        if self.w.compensation && d == self.w.attack_day + 1 {
            let t0 = day0 + 7 * H + self.r.range(0, 30) * M;
            self.compensation(t0);
        }
        if d == self.w.attack_day {
            let (w1, w2) = self.w.attack_at;
            self.wave1(day0 + w1);
            self.wave2(day0 + w2);
        }
        let end = self.w.end;
        self.day.reqs.retain(|r| r.ts < end);
        self.day.stmts.retain(|s| s.ts < end);
        self.day.msgs.retain(|m| m.ts < end);
        self.day
            .reqs
            .sort_by(|a, b| a.ts.cmp(&b.ts).then(a.id.cmp(&b.id)));
        self.day
            .stmts
            .sort_by(|a, b| a.ts.cmp(&b.ts).then(a.pid.cmp(&b.pid)));
        self.day.msgs.sort_by_key(|m| m.ts);
    }

    fn session(&mut self, ts0: Us) {
        let c = self.existing(ts0);
        let (ip, ua, id, phone) = {
            let cu = &self.w.customers[c];
            (cu.ip.clone(), cu.ua, cu.id.clone(), cu.phone.clone())
        };
        let mut ts = ts0;
        // Ordinary failures: a mistyped password once or twice.
        if self.r.chance(0.04) {
            for _ in 0..self.r.range(1, 2) {
                self.login(ts, &ip, ua, 401, None, phone.clone(), 0);
                ts += self.r.range(4, 20) * S;
            }
        }
        self.login(ts, &ip, ua, 200, Some(id.clone()), phone, 0);
        ts += self.r.range(2, 30) * S;
        for _ in 0..self.r.range(1, 4) {
            let item = self.r.range(1, 180);
            let (route, path) = if self.r.chance(0.5) {
                ("/api/v1/menu", "/api/v1/menu".to_string())
            } else {
                ("/api/v1/menu/{itemId}", format!("/api/v1/menu/{item}"))
            };
            self.req(ts, &ip, ua, "GET", route, path, 200, Some(id.clone()), 0);
            ts += self.r.range(3, 60) * S;
        }
        let roll = self.r.below(100);
        if roll < 40 {
            let amount = self.r.range(90, 1400);
            let rid = self.req(
                ts,
                &ip,
                ua,
                "POST",
                "/api/v1/orders",
                "/api/v1/orders".into(),
                201,
                Some(id.clone()),
                0,
            );
            let rest = self.r.range(1, 40);
            self.app(ts + 4_000, &rid, "WRITE", "INSERT", "public.orders", &format!("INSERT INTO orders (account_id, amount, restaurant_id, created_at) VALUES ({id}, {amount}, {rest}, now())"), vec![], 0);
            self.bonus_change(ts + 9_000, &rid, c, amount / 20, "accrual", 0);
        } else if roll < 60 {
            self.bonus_read(ts, &ip, ua, &id, &id, 0);
        } else if roll < 66 && self.w.customers[c].balance > 200 {
            let pts = self.r.range(50, 200);
            let rid = self.req(
                ts,
                &ip,
                ua,
                "POST",
                "/api/v1/accounts/{accountId}/bonus/redeem",
                format!("/api/v1/accounts/{id}/bonus/redeem"),
                200,
                Some(id.clone()),
                0,
            );
            self.bonus_change(ts + 5_000, &rid, c, -pts, "redeem", 0);
        } else if roll < 70 {
            self.profile_read(ts, &ip, ua, &id, &id, 0);
        } else if roll < 71 && self.w.customers[c].balance > 100 {
            // Family sharing: a small legitimate transfer.
            let to = self.existing(ts);
            let pts = self.r.range(20, 100);
            let rid = self.req(
                ts,
                &ip,
                ua,
                "POST",
                "/api/v1/bonus/transfer",
                "/api/v1/bonus/transfer".into(),
                200,
                Some(id.clone()),
                0,
            );
            self.bonus_change(ts + 5_000, &rid, c, -pts, "transfer_out", 0);
            self.bonus_change(ts + 7_000, &rid, to, pts, "transfer_in", 0);
        }
    }

    fn registrations(&mut self, day0: Us) {
        let idxs: Vec<usize> = (0..self.w.customers.len())
            .filter(|&i| {
                let c = self.w.customers[i].created;
                c >= day0 && c < day0 + D
            })
            .collect();
        for i in idxs {
            let (ip, ua, id, created, devs) = {
                let c = &self.w.customers[i];
                (
                    c.ip.clone(),
                    c.ua,
                    c.id.clone(),
                    c.created,
                    c.devices.clone(),
                )
            };
            let rid = self.req(
                created,
                &ip,
                ua,
                "POST",
                "/api/v1/customers",
                "/api/v1/customers".into(),
                201,
                None,
                0,
            );
            let (name, email, phone) = {
                let c = &self.w.customers[i];
                (c.name.replace('\'', "''"), c.email.clone(), c.phone.clone())
            };
            self.app(created + 5_000, &rid, "WRITE", "INSERT", "public.customers", &format!("INSERT INTO customers (id, name, email, phone, created_at) VALUES ({id}, '{name}', '{email}', '{phone}', now())"), vec![], 0);
            for (k, d) in devs.iter().enumerate() {
                let t = created + (20 + k as i64 * 7) * S;
                let rid = self.req(
                    t,
                    &ip,
                    ua,
                    "PUT",
                    "/api/v1/customers/{customerId}/devices/{deviceId}",
                    format!("/api/v1/customers/{id}/devices/{}", d.fcm),
                    204,
                    Some(id.clone()),
                    0,
                );
                self.app(t + 3_000, &rid, "WRITE", "INSERT", "public.customer_devices", &format!("INSERT INTO customer_devices (account_id, installation_id, platform) VALUES ({id}, '{}', '{}')", d.fcm, d.platform), vec![], 0);
            }
        }
    }

    pub(super) fn staff_login(&mut self, ts: Us, who: &'static str, ip: &str, ua: &str, wave: u8) {
        self.req(
            ts,
            ip,
            ua,
            "POST",
            "/admin/auth/login",
            "/admin/auth/login".into(),
            200,
            Some(who.to_string()),
            wave,
        );
    }

    fn staff_day(&mut self, d: u32, day0: Us) {
        let staff: Vec<&'static str> = self.w.staff.iter().map(|s| s.principal).collect();
        for (k, who) in staff.iter().enumerate() {
            let ip = self.w.office[k % 2];
            let mut ts = day0 + (6 + k as i64) * H + self.r.range(0, 50) * M;
            self.staff_login(ts, who, ip, STAFF_UA, 0);
            let n = (self.r.range(12, 25) as f64 * self.w.scale.max(1.0).sqrt()) as usize;
            for _ in 0..n {
                ts += self.r.range(2, 20) * M;
                let c = self.existing(ts);
                let id = self.w.customers[c].id.clone();
                let rid = self.req(
                    ts,
                    ip,
                    STAFF_UA,
                    "GET",
                    "/admin/customers/{customerId}",
                    format!("/admin/customers/{id}"),
                    200,
                    Some(who.to_string()),
                    0,
                );
                self.app(
                    ts + 4_000,
                    &rid,
                    "READ",
                    "SELECT",
                    "public.customers",
                    "SELECT id, name, email, phone, created_at FROM customers WHERE id = $1",
                    vec![id.clone()],
                    0,
                );
                if self.r.chance(0.12) {
                    let pts = self.r.range(50, 300);
                    let (at, ua) = (ts + 40 * S, STAFF_UA);
                    self.staff_adjustment(at, (ip, ua, who), c, pts, S, "goodwill");
                }
            }
            // Bulk look-alike: staff paging through the customer list from the office.
            if d == 2 && k == 2 {
                for page in 1..=40 {
                    ts += self.r.range(5, 30) * S;
                    let rid = self.req(
                        ts,
                        ip,
                        STAFF_UA,
                        "GET",
                        "/admin/customers",
                        format!("/admin/customers?page={page}"),
                        200,
                        Some(who.to_string()),
                        0,
                    );
                    self.app(ts + 3_000, &rid, "READ", "SELECT", "public.customers", &format!("SELECT id, name, email, phone FROM customers ORDER BY id LIMIT 50 OFFSET {}", (page - 1) * 50), vec![], 0);
                }
            }
        }
    }

    /// The morning after: a staff member refunds every drained account from the office,
    /// then a script of theirs credits goodwill points to a few hundred customers, one
    /// request each: bonus changes by the hundred, large ones among them, none the
    /// attacker's.
    fn compensation(&mut self, t0: Us) {
        let who = self.w.staff[0].principal;
        let ip = self.w.office[0];
        self.staff_login(t0, who, ip, STAFF_UA, 0);
        let mut ts = t0 + 2 * M;
        for (c, amount) in self.w.drained.clone() {
            ts += self.r.range(30, 120) * S;
            let by = (ip, STAFF_UA, who);
            self.staff_adjustment(ts, by, c, amount, 900, "incident_refund");
        }
        let n = (300.0 * self.w.scale.max(1.0).sqrt()) as usize;
        for _ in 0..n {
            ts += self.r.range(1, 4) * S;
            let c = self.existing(ts);
            let by = (ip, "python-requests/2.32.3", who);
            self.staff_adjustment(ts, by, c, 200, 700, "goodwill_incident");
        }
    }

    /// A staff bonus adjustment of one account: the admin request at `ts` by (address,
    /// agent, principal), and the change it makes `after` µs later.
    fn staff_adjustment(
        &mut self,
        ts: Us,
        (ip, ua, who): (&str, &str, &str),
        c: usize,
        delta: i64,
        after: Us,
        reason: &str,
    ) {
        let id = self.w.customers[c].id.clone();
        let rid = self.req(
            ts,
            ip,
            ua,
            "POST",
            "/admin/bonus/adjustments",
            format!("/admin/bonus/adjustments?account={id}"),
            200,
            Some(who.to_string()),
            0,
        );
        self.bonus_change(ts + after, &rid, c, delta, reason, 0);
    }

    fn nightly(&mut self, day0: Us) {
        let ts = day0 + 30 * M + self.r.range(0, 120) * S;
        let pid = 31_000 + self.r.below(900) as u32;
        let host = "10.0.5.20";
        let names = self.w.names.clone();
        let name = |s: &str| names.sql(s.to_string());
        let mut push = |k: SKind, t: Us, text: &str| {
            self.day.stmts.push(Stmt {
                ts: t,
                user: ANALYTICS,
                host: host.to_string(),
                pid,
                text: name(text),
                params: vec![],
                class: "READ",
                command: "COPY",
                object: name("public.customers"),
                kind: k,
                wave: 0,
                concatenated: false,
            });
        };
        push(SKind::Connect, ts, "");
        push(SKind::Stmt, ts + 2 * S, "COPY (SELECT id, name, email, phone, created_at\n  FROM customers\n  ORDER BY id) TO STDOUT WITH CSV HEADER");
        push(SKind::Disconnect, ts + 95 * S, "");
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn campaign(
        &mut self,
        ts: Us,
        who: &str,
        ip: &str,
        ua: &str,
        title: &str,
        body: &str,
        topic: &'static str,
        wave: u8,
    ) {
        let cid = format!("cmp-{}", self.r.hex(10));
        let rid = self.req(
            ts,
            ip,
            ua,
            "POST",
            "/admin/push/campaigns",
            "/admin/push/campaigns".into(),
            201,
            Some(who.to_string()),
            wave,
        );
        self.app(
            ts + 6_000,
            &rid,
            "WRITE",
            "INSERT",
            "public.push_campaigns",
            &format!(
                "INSERT INTO push_campaigns (id, title, body, audience, created_by) VALUES ('{cid}', '{}', '{}', '{topic}', '{}')",
                title.replace('\'', "''"),
                body.replace('\'', "''"),
                who.split('@').next().unwrap_or(who)
            ),
            vec![],
            wave,
        );
        let send = ts + self.r.range(60, 240) * S;
        let rid = self.req(
            send,
            ip,
            ua,
            "POST",
            "/admin/push/campaigns/{campaignId}/send",
            format!("/admin/push/campaigns/{cid}/send"),
            202,
            Some(who.to_string()),
            wave,
        );
        self.app(
            send + 5_000,
            &rid,
            "WRITE",
            "UPDATE",
            "public.push_campaigns",
            &format!(
                "UPDATE push_campaigns SET status = 'sent', sent_at = now() WHERE id = '{cid}'"
            ),
            vec![],
            wave,
        );
        let at = send + 2 * S;
        let mut deliveries = Vec::new();
        for (ci, c) in self.w.customers.iter().enumerate() {
            if c.created >= at {
                continue;
            }
            for di in 0..c.devices.len() {
                let subscribed = topic == "all" || (ci * 7 + di * 3) % 10 < 3;
                if !subscribed {
                    continue;
                }
                let ok = !self.r.chance(0.05);
                deliveries.push(Delivery {
                    ts: at + self.r.range(1, 90_000) * 1000,
                    cust: ci,
                    dev: di,
                    ok,
                });
            }
        }
        deliveries.sort_by_key(|x| (x.ts, x.cust, x.dev));
        let fcm_id = format!("0:{}%{}", at, self.r.hex(16));
        let onesignal_id = self.r.uuid();
        let sns_id = self.r.uuid();
        self.day.msgs.push(Msg {
            ts: at,
            campaign: cid,
            fcm_id,
            onesignal_id,
            sns_id,
            title: title.to_string(),
            body: body.to_string(),
            topic,
            deliveries,
            wave,
        });
    }

    fn pushes(&mut self, d: u32, day0: Us) {
        let o = self.w.office[0];
        if d == 0 || d == 2 {
            let who = self.w.staff[0].principal;
            self.campaign(
                day0 + 10 * H + 30 * M,
                who,
                o,
                STAFF_UA,
                "Lunch deal",
                "Any pizza + drink for 199 UAH until 15:00",
                "promo-lunch",
                0,
            );
        }
        if d == 1 {
            let who = self.w.staff[0].principal;
            self.campaign(day0 + 12 * H + 5 * M, who, o, STAFF_UA, "Звернення до клієнтів", "We are aware of the reports in the media. Our statement: we stand with our customers.", "all", 0);
        }
    }
}
