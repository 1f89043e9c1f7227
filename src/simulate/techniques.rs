//! The attack waves' other techniques (`--wave1 idor|hijack`, `--wave2 injection`): the same
//! incident reached another way, so that nothing in breachline leans on the one plot.

use super::gen::Gen;
use super::scenario::*;

/// Wave 1 with `idor`: the attacker's only address and agent.
const IDOR_UA: &str = "python-requests/2.31.0";
/// Wave 1 with `hijack`: the app's own HTTP client, as the stolen tokens' owners send.
const HIJACK_UA: &str = "okhttp/4.12.0";

impl Gen<'_> {
    /// Wave 1 through an insecure direct object reference: signed in as one of its own
    /// accounts, the attacker reads other customers' balances (and a dozen's profiles)
    /// by their ids, moves the
    /// rich ones' points into its accounts through the transfer route (which takes the
    /// source account from the request body and never checks it is the caller's), then
    /// abuses promo codes on its own accounts. One address, no failed logins.
    pub(super) fn wave1_idor(&mut self, t0: Us) {
        let ip = self.w.stuffing_ips[0].clone();
        let owned = self.w.attacker_owned.clone();
        let me = owned[0];
        let (mid, phone) = {
            let c = &self.w.customers[me];
            (c.id.clone(), c.phone.clone())
        };
        let mut t = t0;
        self.login(t, &ip, IDOR_UA, 200, Some(mid.clone()), phone, 1);
        // Ids walked one by one; the rich ones are drained.
        let mut looked = Vec::new();
        while looked.len() < 30 {
            let c = self.existing(t0);
            if !looked.contains(&c) {
                looked.push(c);
            }
        }
        let mut victims = Vec::new();
        for &c in &looked {
            t += self.r.range(2, 7) * S;
            let cid = self.w.customers[c].id.clone();
            self.bonus_read(t, &ip, IDOR_UA, &cid, &mid, 1);
            if self.w.customers[c].balance > 400 && victims.len() < 8 {
                victims.push(c);
            }
        }
        // The first dozen's profiles too: their personal data reached the attacker.
        for &c in &looked[..12] {
            t += self.r.range(2, 7) * S;
            let cid = self.w.customers[c].id.clone();
            self.profile_read(t, &ip, IDOR_UA, &cid, &mid, 1);
            self.enumerated.push((c, 1));
        }
        t += self.r.range(40, 120) * S;
        for (n, &v) in victims.iter().enumerate() {
            t += self.r.range(15, 50) * S;
            self.drain(t, &ip, IDOR_UA, &mid, v, owned[n % owned.len()]);
        }
        self.promo_abuse(t, &ip, IDOR_UA);
    }

    /// Wave 1 by session hijacking: customers' session tokens, leaked (a debug log, an
    /// analytics SDK), replayed from two addresses under the app's own HTTP client's
    /// agent. Each victim's balance is read and drained into the attacker's accounts
    /// minutes apart; nothing signs in and nothing fails.
    pub(super) fn wave1_hijack(&mut self, t0: Us) {
        let ips: Vec<String> = self.w.stuffing_ips[..2].to_vec();
        let owned = self.w.attacker_owned.clone();
        let mut victims = Vec::new();
        while victims.len() < 10 {
            let c = self.existing(t0);
            if self.w.customers[c].balance > 400 && !victims.contains(&c) {
                victims.push(c);
            }
        }
        let mut t = t0;
        for (n, &v) in victims.iter().enumerate() {
            let ip = &ips[n % ips.len()];
            let vid = self.w.customers[v].id.clone();
            t += self.r.range(60, 240) * S;
            self.bonus_read(t, ip, HIJACK_UA, &vid, &vid, 1);
            t += self.r.range(5, 20) * S;
            self.drain(t, ip, HIJACK_UA, &vid, v, owned[n % owned.len()]);
        }
    }

    /// Promo codes redeemed again and again on the attacker's own accounts, each signed in
    /// from `ip`.
    pub(super) fn promo_abuse(&mut self, mut t: Us, ip: &str, ua: &str) {
        for o in self.w.attacker_owned.clone() {
            let oid = self.w.customers[o].id.clone();
            t += self.r.range(30, 90) * S;
            let ph = self.w.customers[o].phone.clone();
            self.login(t, ip, ua, 200, Some(oid.clone()), ph, 1);
            for _ in 0..6 {
                t += self.r.range(10, 40) * S;
                let rid = self.req(
                    t,
                    ip,
                    ua,
                    "POST",
                    "/api/v1/accounts/{accountId}/bonus/promo",
                    format!("/api/v1/accounts/{oid}/bonus/promo"),
                    200,
                    Some(oid.clone()),
                    1,
                );
                self.bonus_change(t + 6_000, &rid, o, 5000, "promo", 1);
            }
        }
    }

    /// Wave 2 through the database itself: the analytics job's password, leaked from its
    /// server's configuration, used from the attacker's own address on a database that
    /// listens to the internet. It looks around, copies the customer table and the staff
    /// table out, and signs in to the staff console with a cracked staff hash to send.
    pub(super) fn wave2_direct(&mut self, t0: Us) {
        let ip = self.w.wave2_ip;
        let ua = self.w.wave2_ua;
        let pid = 40_000 + self.r.below(900) as u32;
        let mut t = t0;
        let steps: [(SKind, &str, &str, &str); 6] = [
            (SKind::Connect, "", "", ""),
            (SKind::Stmt, "SELECT", "", "SELECT current_user, version()"),
            (
                SKind::Stmt,
                "SELECT",
                "information_schema.tables",
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
            ),
            (
                SKind::Stmt,
                "COPY",
                "public.customers",
                "COPY (SELECT * FROM customers) TO STDOUT WITH CSV HEADER",
            ),
            (
                SKind::Stmt,
                "SELECT",
                "public.staff_users",
                "SELECT email, role, password_hash FROM staff_users",
            ),
            (SKind::Disconnect, "", "", ""),
        ];
        for (kind, command, object, text) in steps {
            t += self.r.range(20, 90) * S;
            let (object, text) = (
                self.w.names.sql(object.to_string()),
                self.w.names.sql(text.to_string()),
            );
            if command == "COPY" {
                self.exports.push((t, 2));
            }
            self.day.stmts.push(Stmt {
                ts: t,
                user: ANALYTICS,
                host: ip.to_string(),
                pid,
                text,
                params: vec![],
                class: "READ",
                command,
                object,
                kind,
                wave: 2,
                concatenated: false,
            });
        }
        self.crack_and_send(t, ip, ua);
    }

    /// Wave 2 through SQL injection: the public menu search (no sign-in) builds its
    /// query from the search text. The attacker finds the flaw, counts the columns, reads
    /// the catalogue, dumps the customer table and the staff table with `UNION`, then
    /// signs in as a staff member whose hash it cracked and sends the broadcast.
    pub(super) fn wave2_injection(&mut self, t0: Us) {
        let ip = self.w.wave2_ip;
        let ua = self.w.wave2_ua;
        let base = "SELECT id, name, price FROM menu_items WHERE name ILIKE '%";
        // (query string as sent, the search text the statement carries, status)
        let steps: [(&str, &str, u16); 7] = [
            ("search=pizza", "pizza", 200),
            ("search=pizza%27", "", 500),
            ("search=%27%20OR%20%271%27%3D%271", "' OR '1'='1", 200),
            ("search=%27%20ORDER%20BY%204--", "", 500),
            ("search=%27%20UNION%20SELECT%20NULL%2CNULL%2CNULL--", "' UNION SELECT NULL, NULL, NULL--", 200),
            (
                "search=%27%20UNION%20SELECT%20table_name%2Ccolumn_name%2CNULL%20FROM%20information_schema.columns--",
                "' UNION SELECT table_name, column_name, NULL FROM information_schema.columns--",
                200,
            ),
            (
                "search=%27%20UNION%20SELECT%20id%2Cemail%2Cphone%20FROM%20customers--",
                "' UNION SELECT id, email, phone FROM customers--",
                200,
            ),
        ];
        let last = steps.len() - 1;
        let mut t = t0;
        for (k, (query, text, status)) in steps.into_iter().enumerate() {
            t += self.r.range(20, 90) * S;
            let rid = self.req(
                t,
                ip,
                ua,
                "GET",
                "/api/v1/menu",
                format!("/api/v1/menu?{query}"),
                status,
                None,
                2,
            );
            if !text.is_empty() {
                self.app(
                    t + 4_000,
                    &rid,
                    "READ",
                    "SELECT",
                    "public.menu_items",
                    &format!("{base}{text}%'"),
                    vec![],
                    2,
                );
                self.concatenated();
            }
            if k == last {
                self.exports.push((t + 4_000, 2));
            }
        }
        t += self.r.range(60, 180) * S;
        let rid = self.req(
            t,
            ip,
            ua,
            "GET",
            "/api/v1/menu",
            "/api/v1/menu?search=%27%20UNION%20SELECT%20email%2Crole%2Cpassword_hash%20FROM%20staff_users--".into(),
            200,
            None,
            2,
        );
        self.app(
            t + 4_000,
            &rid,
            "READ",
            "SELECT",
            "public.menu_items",
            &format!("{base}' UNION SELECT email, role, password_hash FROM staff_users--%'"),
            vec![],
            2,
        );
        self.concatenated();
        self.crack_and_send(t, ip, ua);
    }

    /// A staff hash cracked offline, then the staff console from the same address sends
    /// the broadcast: inside breachline's default wave gap after `t` (a longer pause is a
    /// wave of its own there).
    fn crack_and_send(&mut self, mut t: Us, ip: &str, ua: &str) {
        t += self.r.range(10, 25) * M;
        let who = self.w.stolen;
        self.staff_login(t, who, ip, ua, 2);
        t += self.r.range(3, 8) * M;
        let (title, body) = self.w.evil.clone();
        self.campaign(t, who, ip, ua, &title, &body, "all", 2);
    }
}
