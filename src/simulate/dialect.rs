//! Another application's vocabulary for the same incident: routes, tables and columns
//! named as a different team would name them (members and rewards instead of customers
//! and bonus, `/mobile/v3/…` and `/backoffice/…`, an `app` schema), either one fixed set
//! or a set drawn from a seed. Rehearses what the analysis must never depend on: the
//! sample's names.

use super::rng::Rng;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// How the simulated application names its routes, tables and columns.
#[derive(Debug, Clone, Default)]
pub enum Names {
    /// The sample's names (`/api/v1/accounts/{accountId}/bonus`, `bonus_accounts`).
    #[default]
    Sample,
    /// The fixed other vocabulary of `--other-names`.
    Other,
    /// A vocabulary drawn from a seed (`--random-names`).
    Drawn(Box<Drawn>),
}

impl Names {
    /// A request path (with its query, if any) in these names.
    pub fn path(&self, s: String) -> String {
        match self {
            Names::Sample => s,
            Names::Other => path(&s),
            Names::Drawn(d) => d.path(&s),
        }
    }
    /// A route template in these names (templates are few: each is made once).
    pub fn route(&self, s: &'static str) -> &'static str {
        let key = match self {
            Names::Sample => return s,
            Names::Other => 0,
            Names::Drawn(d) => d.seed.wrapping_add(1),
        };
        static CACHE: LazyLock<Mutex<HashMap<(u64, &'static str), &'static str>>> =
            LazyLock::new(|| Mutex::new(HashMap::new()));
        let mut c = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        c.entry((key, s))
            .or_insert_with(|| Box::leak(self.path(s.to_string()).into_boxed_str()))
    }
    /// A statement or object name in these names.
    pub fn sql(&self, s: String) -> String {
        match self {
            Names::Sample => s,
            Names::Other => sql(&s),
            Names::Drawn(d) => d.sql(&s),
        }
    }
}

/// A vocabulary drawn from a seed: each of the sample's names replaced by one of the
/// names real applications use for the same thing. Every choice stays within the words
/// breachline classifies without a site profile, but the combinations are free: a
/// `loyalty` schema puts a bonus word in front of every table, `push-tokens` names device
/// registrations with a push word.
#[derive(Debug, Clone)]
pub struct Drawn {
    seed: u64,
    /// Path units (one or two segments of the sample's paths) and their replacements.
    segs: Vec<(&'static [&'static str], &'static str)>,
    /// SQL identifiers and their replacements.
    words: Vec<(&'static str, &'static str)>,
}

/// The choices for each path unit: the sample's segments, then what may replace them.
const SEG_CHOICES: &[(&[&str], &[&str])] = &[
    (
        &["api", "v1"],
        &[
            "api/v1",
            "api/v2",
            "mobile/v3",
            "app",
            "v1",
            "public/api",
            "rest/v4",
        ],
    ),
    (
        &["auth", "login"],
        &[
            "auth/login",
            "sessions",
            "auth/signin",
            "oauth/token",
            "login",
            "auth/token",
        ],
    ),
    (
        &["push", "campaigns"],
        &[
            "push/campaigns",
            "notifications/broadcasts",
            "campaigns",
            "broadcasts",
            "push-notifications",
            "messages/bulk",
        ],
    ),
    (
        &["admin"],
        &[
            "admin",
            "backoffice",
            "staff",
            "internal",
            "manage",
            "admin-api",
        ],
    ),
    (
        &["accounts"],
        &[
            "accounts",
            "members",
            "users",
            "wallets",
            "profiles",
            "customers",
            "guests",
        ],
    ),
    (
        &["{accountId}"],
        &[
            "{accountId}",
            "{id}",
            "{memberId}",
            "{userId}",
            "{account_id}",
            "{guestId}",
        ],
    ),
    (
        &["bonus"],
        &[
            "bonus", "loyalty", "points", "rewards", "cashback", "bonuses",
        ],
    ),
    (&["transfer"], &["transfer", "transfers", "send", "gift"]),
    (&["redeem"], &["redeem", "redemptions", "spend", "burn"]),
    (&["promo"], &["promo", "promo-codes", "coupons", "vouchers"]),
    (
        &["adjustments"],
        &["adjustments", "corrections", "manual", "grants"],
    ),
    (
        &["customers"],
        &[
            "customers",
            "clients",
            "users",
            "members",
            "profiles",
            "guests",
            "patrons",
        ],
    ),
    (
        &["{customerId}"],
        &[
            "{customerId}",
            "{id}",
            "{clientId}",
            "{userId}",
            "{memberId}",
            "{guestId}",
            "{patronId}",
        ],
    ),
    (&["profile"], &["profile", "me", "details", "settings"]),
    (
        &["devices"],
        &["devices", "installations", "push-tokens", "fcm-tokens"],
    ),
    (
        &["{deviceId}"],
        &["{deviceId}", "{installationId}", "{token}", "{id}"],
    ),
    (
        &["export"],
        &["export", "download", "dump", "exports", "csv-export"],
    ),
    (
        &["{campaignId}"],
        &["{campaignId}", "{id}", "{broadcastId}", "{messageId}"],
    ),
    (&["send"], &["send", "dispatch", "publish", "start"]),
    (&["menu"], &["menu", "catalog", "products"]),
    (&["{itemId}"], &["{itemId}", "{id}", "{productId}", "{sku}"]),
    (&["orders"], &["orders", "purchases", "checkout", "baskets"]),
];

/// The choices for each SQL identifier the simulated application uses.
const WORD_CHOICES: &[(&str, &[&str])] = &[
    ("public", &["public", "app", "loyalty", "core", "main"]),
    (
        "bonus_accounts",
        &[
            "bonus_accounts",
            "reward_wallets",
            "loyalty_balances",
            "point_balances",
            "cashback_accounts",
            "bonus_wallets",
        ],
    ),
    (
        "bonus_ledger",
        &[
            "bonus_ledger",
            "reward_transactions",
            "loyalty_ledger",
            "points_history",
            "bonus_operations",
        ],
    ),
    (
        "customers",
        &[
            "customers",
            "members",
            "clients",
            "users",
            "profiles",
            "guests",
            "patrons",
            "people",
        ],
    ),
    (
        "customer_devices",
        &[
            "customer_devices",
            "member_installations",
            "user_devices",
            "push_tokens",
            "client_devices",
            "guest_devices",
        ],
    ),
    (
        "push_campaigns",
        &[
            "push_campaigns",
            "broadcast_messages",
            "notification_campaigns",
            "campaigns",
            "push_messages",
        ],
    ),
    ("orders", &["orders", "purchases", "checkouts"]),
    (
        "account_id",
        &[
            "account_id",
            "member_id",
            "customer_id",
            "user_id",
            "client_id",
            "guest_id",
            "loyalty_account_id",
            "cust_id",
            "patron_no",
        ],
    ),
    (
        "balance",
        &[
            "balance",
            "points_balance",
            "points",
            "bonus_balance",
            "stars",
            "reward_balance",
        ],
    ),
];

impl Drawn {
    /// The vocabulary of a seed.
    pub fn new(seed: u64) -> Drawn {
        let mut r = Rng::new(seed ^ 0x6E61_6D65_7321);
        let segs = (SEG_CHOICES.iter())
            .map(|(from, to)| (*from, *r.pick(to)))
            .collect();
        let words = (WORD_CHOICES.iter())
            .map(|(from, to)| (*from, *r.pick(to)))
            .collect();
        Drawn { seed, segs, words }
    }

    /// A path unit by unit (ids, values and unknown segments kept); the query is kept.
    fn path(&self, s: &str) -> String {
        let (p, q) = match s.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (s, None),
        };
        let segs: Vec<&str> = p.split('/').collect();
        let mut out: Vec<&str> = Vec::with_capacity(segs.len());
        let mut i = 0;
        while i < segs.len() {
            let unit = (self.segs.iter()).find(|(from, _)| segs[i..].starts_with(from));
            match unit {
                Some((from, to)) => {
                    out.push(to);
                    i += from.len();
                }
                None => {
                    out.push(segs[i]);
                    i += 1;
                }
            }
        }
        let mut path = out.join("/");
        if let Some(q) = q {
            path.push('?');
            path.push_str(q);
        }
        path
    }

    /// A statement with whole identifiers replaced (never parts of one).
    fn sql(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 16);
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            let w = (self.words.iter()).find(|(from, _)| *from == word.as_str());
            out.push_str(w.map_or(word.as_str(), |(_, to)| to));
            word.clear();
        };
        for c in s.chars() {
            if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
                out.push(c);
            }
        }
        flush(&mut word, &mut out);
        out
    }
}

/// Route and path renames, most specific first.
const PATHS: &[(&str, &str)] = &[
    ("/api/v1/auth/login", "/mobile/v3/sessions"),
    ("/admin/auth/login", "/backoffice/signin"),
    ("/customers/export", "/members/download"),
    ("/accounts/", "/members/"),
    ("{accountId}", "{memberId}"),
    ("{customerId}", "{memberId}"),
    ("/bonus/adjustments", "/rewards/corrections"),
    ("/bonus/transfer", "/rewards/transfers"),
    ("/bonus/redeem", "/rewards/redemptions"),
    ("/bonus/promo", "/rewards/promo-codes"),
    ("/bonus", "/rewards"),
    ("/customers", "/members"),
    ("/devices/{deviceId}", "/installations/{installationId}"),
    ("/devices/", "/installations/"),
    ("/push/campaigns", "/notifications/broadcasts"),
    ("{campaignId}", "{broadcastId}"),
    ("/menu", "/catalog"),
    ("/orders", "/purchases"),
    ("/api/v1/", "/mobile/v3/"),
    ("/admin/", "/backoffice/"),
];

/// Table and column renames in statements and object names, most specific first.
const SQL: &[(&str, &str)] = &[
    ("public.", "app."),
    ("bonus_accounts", "reward_wallets"),
    ("bonus_ledger", "reward_transactions"),
    ("customer_devices", "member_installations"),
    ("push_campaigns", "broadcast_messages"),
    ("customers", "members"),
    ("orders", "purchases"),
    ("account_id", "member_id"),
    ("balance", "points_balance"),
];

fn apply(s: &str, map: &[(&str, &str)]) -> String {
    map.iter()
        .fold(s.to_string(), |acc, (a, b)| acc.replace(a, b))
}

/// A request path in the fixed other vocabulary.
fn path(s: &str) -> String {
    apply(s, PATHS)
}

/// A statement or object name in the fixed other vocabulary.
fn sql(s: &str) -> String {
    apply(s, SQL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_change_and_ids_stay() {
        assert_eq!(
            path("/api/v1/accounts/100233/bonus/redeem"),
            "/mobile/v3/members/100233/rewards/redemptions"
        );
        assert_eq!(
            Names::Other.route("/admin/customers/{customerId}"),
            "/backoffice/members/{memberId}"
        );
        assert_eq!(
            sql("UPDATE bonus_accounts SET balance = balance + $1 WHERE account_id = $2"),
            "UPDATE reward_wallets SET points_balance = points_balance + $1 WHERE member_id = $2"
        );
    }

    #[test]
    fn drawn_names_replace_whole_units_only() {
        // Some seed draws other names for the API prefix, the bonus word and the tables.
        let d = (0..64)
            .map(Drawn::new)
            .find(|d| {
                let w = |k: &str| d.words.iter().find(|(f, _)| *f == k).unwrap().1;
                let s = |k: &str| d.segs.iter().find(|(f, _)| f[0] == k).unwrap().1;
                w("customers") != "customers"
                    && w("account_id") != "account_id"
                    && s("api") != "api/v1"
                    && s("bonus") != "bonus"
            })
            .unwrap();
        let p = d.path("/api/v1/accounts/100233/bonus/redeem?x=/bonus");
        assert!(!p.starts_with("/api/v1/") && p.contains("/100233/"), "{p}");
        assert!(p.ends_with("?x=/bonus") && !p.contains("/bonus/"), "{p}");
        let q = d.sql("SELECT id, name FROM customers WHERE account_id = $1 -- customers_x");
        assert!(
            !q.contains(" customers ") && q.contains("customers_x"),
            "{q}"
        );
        assert!(
            !q.contains("account_id") && q.contains("SELECT id, name FROM"),
            "{q}"
        );
        // The same seed, the same names; the sample's names for `Sample`.
        let n = Names::Drawn(Box::new(Drawn::new(d.seed)));
        assert_eq!(n.route("/api/v1/menu"), n.route("/api/v1/menu"));
        assert_eq!(n.path("/api/v1/menu".into()), d.path("/api/v1/menu"));
        assert_eq!(Names::Sample.sql("FROM customers".into()), "FROM customers");
    }
}
