//! The two attack waves of the simulated incident, generated into the attack day.

use super::gen::Gen;
use super::scenario::*;

impl Gen<'_> {
    /// Wave 1: credential stuffing, then the compromised accounts drained into the
    /// attacker's own, and promo-code abuse.
    pub(super) fn wave1(&mut self, t0: Us) {
        let ips = self.w.stuffing_ips.clone();
        let uas = [
            "python-requests/2.31.0",
            "python-requests/2.31.0",
            "okhttp/4.9.2",
        ];
        // Victims: existing customers with points.
        let mut victims = Vec::new();
        while victims.len() < 8 {
            let c = self.existing(t0);
            if self.w.customers[c].balance > 400 && !victims.contains(&c) {
                victims.push(c);
            }
        }
        let mut ts = t0;
        let mut compromised: Vec<(usize, usize, Us)> = Vec::new();
        for attempt in 0..420 {
            let k = attempt % 3;
            ts += self.r.range(800, 3200) * 1000;
            let hit = attempt % 50 == 37 && compromised.len() < victims.len();
            let phone = if hit {
                self.w.customers[victims[compromised.len()]].phone.clone()
            } else {
                format!("+38050{:07}", self.r.below(10_000_000))
            };
            let (status, subj) = if hit {
                let v = victims[compromised.len()];
                compromised.push((v, k, ts));
                (200, Some(self.w.customers[v].id.clone()))
            } else {
                (401, None)
            };
            let rid = self.req(
                ts,
                ips[k],
                uas[k],
                "POST",
                "/api/v1/auth/login",
                "/api/v1/auth/login".into(),
                status,
                subj,
                1,
            );
            self.app(
                ts + 3_000,
                &rid,
                "READ",
                "SELECT",
                "public.customers",
                "SELECT id, password_hash FROM customers WHERE phone = $1",
                vec![phone],
                1,
            );
        }
        // Drain the compromised accounts into the attacker-owned ones.
        let owned = self.w.attacker_owned.clone();
        let mut t = ts + 40 * S;
        for (n, (v, k, _)) in compromised.iter().enumerate() {
            let vid = self.w.customers[*v].id.clone();
            t += self.r.range(20, 70) * S;
            let rid = self.req(
                t,
                ips[*k],
                uas[*k],
                "GET",
                "/api/v1/accounts/{accountId}/bonus",
                format!("/api/v1/accounts/{vid}/bonus"),
                200,
                Some(vid.clone()),
                1,
            );
            self.app(
                t + 3_000,
                &rid,
                "READ",
                "SELECT",
                "public.bonus_accounts",
                "SELECT balance, tier FROM bonus_accounts WHERE account_id = $1",
                vec![vid.clone()],
                1,
            );
            t += self.r.range(5, 15) * S;
            let amount = self.w.customers[*v].balance;
            let to = owned[n % owned.len()];
            let rid = self.req(
                t,
                ips[*k],
                uas[*k],
                "POST",
                "/api/v1/bonus/transfer",
                "/api/v1/bonus/transfer".into(),
                200,
                Some(vid.clone()),
                1,
            );
            self.bonus_change(t + 5_000, &rid, *v, -amount, "transfer_out", 1);
            self.bonus_change(t + 8_000, &rid, to, amount, "transfer_in", 1);
        }
        // Promo-code abuse on the attacker's own accounts.
        for &o in &owned {
            let oid = self.w.customers[o].id.clone();
            t += self.r.range(30, 90) * S;
            let rid = self.req(
                t,
                ips[0],
                uas[0],
                "POST",
                "/api/v1/auth/login",
                "/api/v1/auth/login".into(),
                200,
                Some(oid.clone()),
                1,
            );
            let ph = self.w.customers[o].phone.clone();
            self.app(
                t + 3_000,
                &rid,
                "READ",
                "SELECT",
                "public.customers",
                "SELECT id, password_hash FROM customers WHERE phone = $1",
                vec![ph],
                1,
            );
            for _ in 0..6 {
                t += self.r.range(10, 40) * S;
                let rid = self.req(
                    t,
                    ips[0],
                    uas[0],
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

    /// Wave 2: a stolen staff credential from a new address, an injection probe,
    /// enumeration, a full export, and a malicious broadcast.
    pub(super) fn wave2(&mut self, t0: Us) {
        let ip = self.w.wave2_ip;
        let ua = self.w.wave2_ua;
        let who = self.w.stolen;
        // The real owner worked from the office earlier that day (generated by staff_day).
        self.staff_login(t0, who, ip, ua, 2);
        let mut t = t0 + 90 * S;
        let probe = self.req(
            t,
            ip,
            ua,
            "GET",
            "/admin/customers",
            "/admin/customers?search=%27%20OR%201%3D1--".into(),
            500,
            Some(who.to_string()),
            2,
        );
        self.app(
            t + 4_000,
            &probe,
            "READ",
            "SELECT",
            "public.customers",
            "SELECT id, name FROM customers WHERE name LIKE '%' OR 1=1--%'",
            vec![],
            2,
        );
        let mut ids: Vec<usize> = (0..self.w.customers.len())
            .filter(|&i| self.w.customers[i].created < t0 && !self.w.attacker_owned.contains(&i))
            .collect();
        ids.truncate(130);
        for i in ids {
            t += self.r.range(3, 9) * S;
            let id = self.w.customers[i].id.clone();
            let rid = self.req(
                t,
                ip,
                ua,
                "GET",
                "/admin/customers/{customerId}",
                format!("/admin/customers/{id}"),
                200,
                Some(who.to_string()),
                2,
            );
            self.app(
                t + 4_000,
                &rid,
                "READ",
                "SELECT",
                "public.customers",
                "SELECT id, name, email, phone, created_at FROM customers WHERE id = $1",
                vec![id.clone()],
                2,
            );
            self.enumerated.push((i, 2));
        }
        t += 3 * M;
        let rid = self.req(
            t,
            ip,
            ua,
            "GET",
            "/admin/customers/export",
            "/admin/customers/export?format=csv".into(),
            200,
            Some(who.to_string()),
            2,
        );
        self.app(
            t + 6_000,
            &rid,
            "READ",
            "SELECT",
            "public.customers",
            "SELECT id, name, email, phone, created_at\n  FROM customers",
            vec![],
            2,
        );
        self.exports.push((t + 6_000, 2));
        t += 8 * M;
        let (title, body) = self.w.evil.clone();
        self.campaign(t, who, ip, ua, &title, &body, "all", 2);
    }
}
