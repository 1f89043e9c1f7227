//! Another application's vocabulary for the same incident: routes, tables and columns
//! named as a different team would name them (members and rewards instead of customers
//! and bonus, `/mobile/v3/…` and `/backoffice/…`, an `app` schema). Rehearses what the
//! analysis must never depend on: the sample's names.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

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

/// A request path in the dialect.
pub fn path(s: &str) -> String {
    apply(s, PATHS)
}

/// A route template in the dialect (templates are few: each is made once).
pub fn route(s: &'static str) -> &'static str {
    static CACHE: LazyLock<Mutex<HashMap<&'static str, &'static str>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    let mut c = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    c.entry(s)
        .or_insert_with(|| Box::leak(path(s).into_boxed_str()))
}

/// A statement or object name in the dialect.
pub fn sql(s: &str) -> String {
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
            route("/admin/customers/{customerId}"),
            "/backoffice/members/{memberId}"
        );
        assert_eq!(
            sql("UPDATE bonus_accounts SET balance = balance + $1 WHERE account_id = $2"),
            "UPDATE reward_wallets SET points_balance = points_balance + $1 WHERE member_id = $2"
        );
    }
}
