//! The site profile (`--profile site.toml`): which routes, tables and principals belong to
//! the bonus system, customer data and push; login and staff routes; known-good sources;
//! thresholds. Every field has a default from common words, so most apps need no profile.

use crate::error::Error;
use crate::model::lower;
use serde::Deserialize;
use std::borrow::Cow;
use std::path::Path;

/// What part of the application an event touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// Loyalty / bonus points.
    Bonus,
    /// Customer personal data.
    CustomerData,
    /// Push notifications.
    Push,
}

impl Target {
    /// Name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Bonus => "bonus",
            Target::CustomerData => "customer_data",
            Target::Push => "push",
        }
    }
}

fn words(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

/// Whether a path segment carries a value rather than naming a resource: digits only,
/// a UUID, a long run of letters and digits mixed (tokens, hashes, base64 ids), or a long
/// base64url token (FCM registration tokens hold `-` and `_`) whose letters are a
/// random mix of cases, as no camelCase name is.
fn is_value_segment(seg: &str) -> bool {
    let b = seg.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let alnum = b.iter().all(u8::is_ascii_alphanumeric);
    let uuid = b.len() == 36 && b.iter().all(|c| c.is_ascii_hexdigit() || *c == b'-');
    let upper = b.iter().filter(|c| c.is_ascii_uppercase()).count();
    let lower = b.iter().filter(|c| c.is_ascii_lowercase()).count();
    let base64url = b.len() >= 16
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))
        && upper * 4 >= upper + lower
        && lower * 4 >= upper + lower;
    digits == b.len()
        || uuid
        || (alnum && b.len() >= 16 && digits > 0 && digits < b.len())
        || base64url
}

/// The lower-cased words of a path segment: split at punctuation and at camelCase humps.
fn segment_words(seg: &str) -> impl Iterator<Item = String> + '_ {
    seg.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .flat_map(|w| {
            let mut out = Vec::new();
            let mut cur = String::new();
            let mut prev_lower = false;
            for c in w.chars() {
                if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
                cur.push(c.to_ascii_lowercase());
            }
            out.push(cur);
            out
        })
}

/// Words that classify routes and tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Categories {
    /// Bonus system words.
    pub bonus: Vec<String>,
    /// Customer-data words.
    pub customer_data: Vec<String>,
    /// Push words.
    pub push: Vec<String>,
    /// Login route words.
    pub login: Vec<String>,
    /// Staff / admin route words (a path segment equal to or starting with one).
    pub staff: Vec<String>,
    /// Device-registration route words.
    pub device: Vec<String>,
    /// Bulk-export route words (a word of a path segment is one, or its inflection).
    pub export: Vec<String>,
}

impl Default for Categories {
    fn default() -> Self {
        Categories {
            bonus: words(&["bonus", "loyalty", "point", "reward", "cashback", "wallet"]),
            // The statement vocabulary's words but `person`, which inside a path segment
            // is as often `/personalization`.
            customer_data: (crate::sql::ACCOUNT_WORDS.iter())
                .filter(|w| **w != "person")
                .map(|w| w.to_string())
                .collect(),
            push: words(&["push", "notification", "broadcast", "campaign", "message"]),
            // Rails' Devise signs in at `/users/sign_in`.
            login: words(&[
                "login", "signin", "sign-in", "sign_in", "log-in", "log_in", "logon", "auth",
                "token", "session",
            ]),
            staff: words(&[
                "admin",
                "staff",
                "backoffice",
                "back-office",
                "internal",
                "manage",
                "console",
                "crm",
                "ops",
            ]),
            device: words(&["device", "installation", "push-token", "fcm-token"]),
            export: words(&["export", "download", "dump", "backup", "extract"]),
        }
    }
}

/// Path segments after a resource that view, edit or remove it (Django admin's
/// `/admin/loyalty/customer/42/change/`, Rails' `/customers/42/edit`).
const VIEWS: &[&str] = &[
    "change", "edit", "view", "show", "detail", "details", "history", "delete",
];

/// Known-good sources.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnownGood {
    /// Office / VPN addresses (exact or CIDR).
    pub office_ips: Vec<String>,
    /// DB users of services and scheduled jobs.
    pub service_db_users: Vec<String>,
    /// DB client hosts of services and scheduled jobs.
    pub service_db_hosts: Vec<String>,
    /// Staff principals (otherwise inferred from staff routes).
    pub staff_principals: Vec<String>,
}

/// Detector thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Failed logins from one address before it counts as stuffing / brute force.
    pub stuffing_failures: u64,
    /// Share of failed logins from that address.
    pub stuffing_failure_ratio: f64,
    /// Failed logins to staff routes from one address, then a success there, before it
    /// counts as brute force of a staff login.
    pub staff_login_failures: u64,
    /// Distinct accounts one actor touches before it counts as enumeration.
    pub enumeration_accounts: u64,
    /// Other customers' accounts one signed-in customer reaches within an hour before it
    /// counts as an insecure direct object reference.
    pub idor_accounts: u64,
    /// Customer accounts that begin acting from one address within an hour, none signed
    /// in there, before it counts as session hijacking.
    pub hijack_accounts: u64,
    /// Smallest LIMIT that makes a read whole-table.
    pub bulk_limit: u64,
    /// Hours of a principal's first activity that define its usual places.
    pub baseline_hours: u64,
    /// Recipients that make a push a mass send.
    pub mass_push_recipients: u64,
    /// A bonus change larger than this many times the population's typical change is huge;
    /// so is a balance set, of unknown change, to this many times the typical balance set
    /// (where the application sets balances outright).
    pub bonus_outlier_factor: f64,
    /// Transfers fanning into one account count when chance, at the rate the other
    /// accounts received transfers then, would give so dense a burst fewer than this
    /// many times in the whole evidence.
    pub fan_in_chance: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            stuffing_failures: 20,
            stuffing_failure_ratio: 0.6,
            staff_login_failures: 10,
            enumeration_accounts: 50,
            idor_accounts: 10,
            hijack_accounts: 4,
            bulk_limit: 1000,
            baseline_hours: 24,
            mass_push_recipients: 100,
            bonus_outlier_factor: 20.0,
            fan_in_chance: 0.001,
        }
    }
}

/// Table words beyond the category words.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tables {
    /// Bonus tables.
    pub bonus: Vec<String>,
    /// Customer / personal-data tables.
    pub customer: Vec<String>,
    /// Push campaign tables.
    pub push: Vec<String>,
}

/// A site profile.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    /// Route / table words.
    pub categories: Categories,
    /// Extra table names.
    pub tables: Tables,
    /// Known-good sources.
    pub known_good: KnownGood,
    /// Thresholds.
    pub thresholds: Thresholds,
    /// Routines of the bonus system called by position (`CALL credit_points(42, 500)`):
    /// name → its parameters' names in order (`credit_points = ["account_id",
    /// "points"]`), as the database's definition gives them.
    pub routines: std::collections::BTreeMap<String, Vec<String>>,
}

impl Profile {
    /// Reads a TOML profile.
    pub fn load(p: &Path) -> Result<Profile, Error> {
        let text = std::fs::read_to_string(p).map_err(|e| Error::Io {
            path: p.to_path_buf(),
            source: e,
        })?;
        toml::from_str(&text).map_err(|e| Error::BadArg {
            flag: "--profile",
            message: format!("{}: {e}", p.display()),
        })
    }

    /// Adds the profile's words to statement analysis.
    pub fn extend_vocab(&self, v: &mut crate::sql::Vocab) {
        for w in self.categories.bonus.iter().chain(&self.tables.bonus) {
            if !v.bonus_words.contains(w) {
                v.bonus_words.push(w.to_ascii_lowercase());
            }
        }
        for w in self
            .categories
            .customer_data
            .iter()
            .chain(&self.tables.customer)
        {
            if !v.account_words.contains(w) {
                v.account_words.push(w.to_ascii_lowercase());
            }
        }
        for w in &self.categories.device {
            // Routes spell words with `-`, tables with `_`.
            let w = w.to_ascii_lowercase().replace('-', "_");
            if !v.device_words.contains(&w) {
                v.device_words.push(w);
            }
        }
        v.bulk_limit = self.thresholds.bulk_limit;
        for (name, params) in &self.routines {
            v.routines.push(crate::sql::definitions::Routine {
                writes_bonus: true,
                ..crate::sql::definitions::Routine::declared(name, params)
            });
        }
    }

    /// A path's non-empty segments, lower-cased (borrowed when already lower case: these
    /// run for every request of the evidence).
    fn segs(path: &str) -> impl Iterator<Item = Cow<'_, str>> + '_ {
        path.split('/').filter(|s| !s.is_empty()).map(lower)
    }

    fn any(words: &[String], seg: &str) -> bool {
        words.iter().any(|w| seg.contains(w.as_str()))
    }

    /// The target a route or path belongs to; push before bonus before customer data.
    /// Placeholders and segments that carry values (ids, tokens) name no resource.
    /// Where a path names both the bonus system and people, it is the people's data
    /// only when it ends on them after a bonus word: `/loyalty/v1/customers/{id}` (an
    /// API namespaced by the application's name) returns a customer,
    /// `/customers/{id}/points` their points. An `accounts` segment names no people
    /// (`/bonus/accounts/{id}` is a points account).
    pub fn route_target(&self, path: &str) -> Option<Target> {
        let c = &self.categories;
        let segs: Vec<Cow<str>> = Self::segs(path)
            .filter(|s| !s.starts_with('{') && !is_value_segment(s))
            .collect();
        if segs.iter().any(|s| Self::any(&c.push, s)) {
            return Some(Target::Push);
        }
        if segs.iter().any(|s| Self::any(&c.bonus, s)) {
            // An API namespaced by the application's name (`/loyalty/v1/customers/{id}`,
            // Django's `/admin/loyalty/customer/42/change/`): the people it ends on,
            // viewed, edited or exported, not an action on their points after them
            // (`/loyalty/users/{id}/transfer`).
            let people = |s: &str| {
                (c.customer_data.iter()).any(|w| w.as_str() != "account" && s.contains(w.as_str()))
            };
            let at = segs.iter().rposition(|s| people(s));
            let namespaced = at.is_some_and(|p| {
                !Self::any(&c.bonus, &segs[p])
                    && segs[..p].iter().any(|s| Self::any(&c.bonus, s))
                    && segs[p + 1..]
                        .iter()
                        .all(|s| VIEWS.contains(&&**s) || self.is_export_route(s))
            });
            return Some(if namespaced {
                Target::CustomerData
            } else {
                Target::Bonus
            });
        }
        if segs.iter().any(|s| Self::any(&c.login, s)) {
            return None;
        }
        if segs.iter().any(|s| Self::any(&c.customer_data, s)) {
            return Some(Target::CustomerData);
        }
        None
    }

    /// A login route.
    pub fn is_login(&self, path: &str) -> bool {
        Self::segs(path).any(|s| Self::any(&self.categories.login, &s))
    }

    /// A staff / admin route.
    pub fn is_staff_route(&self, path: &str) -> bool {
        Self::segs(path).any(|s| {
            self.categories
                .staff
                .iter()
                .any(|w| s == *w || s.starts_with(w.as_str()))
        })
    }

    /// A bulk-export route: a word of a segment is an export word or its inflection
    /// (`/customers/export.csv`, `/exportCustomers`, `/db-dump`, `/downloads`). Words, not
    /// substrings, and no value segments: a device token `fdumpMuEAo…9VHV` is no dump, and
    /// `/menu/dumplings` no export.
    pub fn is_export_route(&self, path: &str) -> bool {
        path.split('/')
            .filter(|s| !s.is_empty() && !s.starts_with('{') && !is_value_segment(s))
            .flat_map(segment_words)
            .any(|w| {
                self.categories.export.iter().any(|x| {
                    w.strip_prefix(x.as_str())
                        .is_some_and(|rest| ["", "s", "ed", "ing"].contains(&rest))
                })
            })
    }

    /// A device-registration route.
    pub fn is_device_route(&self, path: &str) -> bool {
        Self::segs(path).any(|s| Self::any(&self.categories.device, &s))
    }

    /// A table of customers' devices (`push_tokens`, `device_installations`): device
    /// words spelled as tables spell them, with `_`.
    pub fn is_device_table(&self, table: &str) -> bool {
        let t = lower(table);
        (self.categories.device.iter())
            .any(|w| t.contains(w.to_ascii_lowercase().replace('-', "_").as_str()))
    }

    /// The target of a table.
    pub fn table_target(&self, table: &str) -> Option<Target> {
        let t = lower(table);
        let c = &self.categories;
        let hit = |ws: &[String], extra: &[String]| {
            ws.iter().chain(extra).any(|w| t.contains(w.as_str()))
        };
        if hit(&c.push, &self.tables.push) {
            Some(Target::Push)
        } else if hit(&[], &self.tables.bonus) {
            Some(Target::Bonus)
        } else if hit(&self.tables.customer, &[])
            || crate::sql::names_people(table, &c.customer_data)
        {
            // A table named for people (`loyalty_customer`) holds them, whatever the
            // application's name before it says.
            Some(Target::CustomerData)
        } else if hit(&c.bonus, &[]) {
            Some(Target::Bonus)
        } else if hit(&self.tables.customer, &[])
            || (hit(&c.customer_data, &[]) && !crate::sql::is_staff_table(table))
        {
            Some(Target::CustomerData)
        } else {
            None
        }
    }

    /// An office / VPN address.
    pub fn is_office(&self, ip: &str) -> bool {
        self.known_good.office_ips.iter().any(|o| ip_in(ip, o))
    }

    /// A known service DB user or host.
    ///
    /// Where both users and clients are listed, a known identity must match both lists: a
    /// service's user from a client not listed is its leaked password used elsewhere.
    pub fn is_service_db(&self, user: Option<&str>, host: Option<&str>) -> bool {
        let (users, hosts) = (
            &self.known_good.service_db_users,
            &self.known_good.service_db_hosts,
        );
        let user_listed = user.map(|u| users.iter().any(|x| x == u));
        let host_listed = host.map(|h| hosts.iter().any(|x| ip_in(h, x)));
        let named = user_listed == Some(true) || host_listed == Some(true);
        let user_ok = users.is_empty() || user_listed != Some(false);
        let host_ok = hosts.is_empty() || host_listed != Some(false);
        named && user_ok && host_ok
    }
}

/// Whether an address is `net` (exact) or inside it (IPv4 CIDR).
pub fn ip_in(ip: &str, net: &str) -> bool {
    let Some((base, bits)) = net.split_once('/') else {
        return ip == net;
    };
    let (Ok(a), Ok(b), Ok(bits)) = (
        ip.parse::<std::net::Ipv4Addr>(),
        base.parse::<std::net::Ipv4Addr>(),
        bits.parse::<u32>(),
    ) else {
        return false;
    };
    if bits == 0 {
        return true;
    }
    let mask = u32::MAX.checked_shl(32 - bits.min(32)).unwrap_or(0);
    (u32::from(a) & mask) == (u32::from(b) & mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_s_example_profile_is_one() {
        let readme = include_str!("../README.md");
        let section = &readme[readme.find("## Site profile").unwrap()..];
        let start = section.find("```toml\n").unwrap() + 8;
        let end = start + section[start..].find("```").unwrap();
        let p: Profile = toml::from_str(&section[start..end]).unwrap();
        let mut v = crate::sql::Vocab::default();
        p.extend_vocab(&mut v);
        let r = v.routine("credit_points", 2, true).unwrap();
        assert_eq!(r.params[0].name, "account_id");
        assert!(v.is_bonus_routine("credit_points"));
    }

    #[test]
    fn a_service_user_from_an_unlisted_client_is_not_the_service() {
        let mut p = Profile::default();
        p.known_good.service_db_users = vec!["analytics".into()];
        // Users alone listed: the user is enough.
        assert!(p.is_service_db(Some("analytics"), Some("192.0.2.77")));
        assert!(!p.is_service_db(Some("app"), Some("10.0.5.20")));
        p.known_good.service_db_hosts = vec!["10.0.5.0/24".into()];
        assert!(p.is_service_db(Some("analytics"), Some("10.0.5.20")));
        assert!(
            p.is_service_db(Some("analytics"), None),
            "client not logged"
        );
        assert!(p.is_service_db(None, Some("10.0.5.20")), "user not logged");
        // The leaked password used from elsewhere, and another user on the job's host.
        assert!(!p.is_service_db(Some("analytics"), Some("192.0.2.77")));
        assert!(!p.is_service_db(Some("postgres"), Some("10.0.5.20")));
        assert!(!p.is_service_db(None, None));
    }

    #[test]
    fn export_routes_by_word_not_by_substring() {
        let p = Profile::default();
        for yes in [
            "/admin/customers/export",
            "/api/v1/customers/export.csv",
            "/api/exportCustomers",
            "/api/v2/exportAllCustomerRecords",
            "/admin/customer-export-2024",
            "/internal/db-dump",
            "/reports/{id}/download",
            "/backups/latest",
        ] {
            assert!(p.is_export_route(yes), "{yes}");
        }
        for no in [
            "/api/v1/customers/100376/devices/fdumpMuEAoWOmh9VHVwYNK",
            "/prod/api/v1/customers/100501/devices/DUmpRMmI9NKvJaiyItXet-",
            "/api/v1/devices/eXpoRtQ_kL-9mNbVcXzAqW",
            "/api/v1/customers/{customerId}/devices/{installationId}",
            "/api/v1/menu/dumplings",
            "/api/v1/customers/3f2b8c1e-9a7d-4c5e-8f00-123456789abc",
            "/api/v1/reexport",
        ] {
            assert!(!p.is_export_route(no), "{no}");
        }
        // A token's letters name no target either.
        assert_eq!(p.route_target("/api/v1/menu/aPushX7kQ2mZ9wL4bT1c"), None);
    }

    #[test]
    fn route_targets_from_common_words() {
        let p = Profile::default();
        assert_eq!(
            p.route_target("/api/v1/accounts/{accountId}/bonus"),
            Some(Target::Bonus)
        );
        assert_eq!(
            p.route_target("/admin/customers/{customerId}"),
            Some(Target::CustomerData)
        );
        assert_eq!(
            p.route_target("/admin/push/campaigns/cmp-1/send"),
            Some(Target::Push)
        );
        assert_eq!(p.route_target("/api/v1/auth/login"), None);
        assert_eq!(p.route_target("/api/v1/menu/12"), None);
        assert!(p.is_login("/api/v1/auth/login"));
        assert!(p.is_staff_route("/admin/customers/1"));
        assert!(!p.is_staff_route("/api/v1/customers/1"));
    }

    #[test]
    fn guests_and_patrons_are_customer_data() {
        let p = Profile::default();
        for route in [
            "/api/v1/guests/{guestId}/profile",
            "/app/patrons/{id}",
            "/api/diners/100233",
        ] {
            assert_eq!(p.route_target(route), Some(Target::CustomerData), "{route}");
        }
        assert_eq!(p.table_target("guests"), Some(Target::CustomerData));
        assert_eq!(p.table_target("people"), Some(Target::CustomerData));
        assert!(p.is_login("/users/sign_in") && p.is_login("/api/log-in"));
        assert_eq!(p.route_target("/users/sign_in"), None);
        assert!(p.is_staff_route("/console/guests/100233") && p.is_staff_route("/crm/patrons"));
        assert!(p.is_export_route("/console/guests/extract"));
        // `person` counts in tables, not inside a path's words.
        assert_eq!(p.route_target("/api/v1/personalization/feed"), None);
    }

    #[test]
    fn staff_tables_are_not_customer_data() {
        let p = Profile::default();
        for staff in [
            "staff_users",
            "public.admin_users",
            "AdminAccounts",
            "`backoffice_users`",
            "employees",
            "internal_user_profiles",
        ] {
            assert_eq!(p.table_target(staff), None, "{staff}");
        }
        for customers in [
            "users",
            "public.customers",
            "backoffice.customers",
            "ClientProfiles",
            "member_accounts",
        ] {
            assert_eq!(
                p.table_target(customers),
                Some(Target::CustomerData),
                "{customers}"
            );
        }
        // A site that names its customers' table so says so in its profile.
        let p: Profile = toml::from_str("[tables]\ncustomer = [\"staff_club\"]\n").unwrap();
        assert_eq!(p.table_target("staff_club"), Some(Target::CustomerData));
    }

    #[test]
    fn an_api_namespaced_by_a_bonus_word_returns_the_people_it_ends_on() {
        let p = Profile::default();
        for people in [
            "/loyalty/v1/customers/{id}",
            "/prod/loyalty/admin/customers/100001",
            "/admin/loyalty/customer/42/change/",
            "/loyalty-api/users",
            "/rewards/members/{memberId}/edit",
            "/loyalty/customers/export.csv",
        ] {
            assert_eq!(
                p.route_target(people),
                Some(Target::CustomerData),
                "{people}"
            );
        }
        for bonus in [
            "/api/v1/customers/{id}/bonus",
            "/loyalty/users/{id}/transfer",
            "/bonus/accounts/{id}",
            "/accounts/{id}/points",
            "/loyalty/customer-points/{id}",
            "/loyalty/users/sign_in",
        ] {
            assert_eq!(p.route_target(bonus), Some(Target::Bonus), "{bonus}");
        }
        assert_eq!(
            p.route_target("/loyalty/customers/{id}/notifications"),
            Some(Target::Push)
        );
    }

    #[test]
    fn a_table_named_for_people_holds_them_whatever_its_application_is_called() {
        // Django names a model's table `<app>_<model>`: an application called `loyalty`
        // keeps its customers in `loyalty_customer`.
        let p = Profile::default();
        for people in [
            "loyalty_customer",
            "public.loyalty_customers",
            "RewardsMember",
            "`bonus_app`.`cashback_users`",
            "loyalty_profile",
        ] {
            assert_eq!(
                p.table_target(people),
                Some(Target::CustomerData),
                "{people}"
            );
        }
        // Points accounts, memberships and a customer's points are the bonus system's;
        // the push tables stay push tables.
        for bonus in [
            "bonus_accounts",
            "loyalty_membership",
            "customer_points",
            "loyalty_bonusaccount",
        ] {
            assert_eq!(p.table_target(bonus), Some(Target::Bonus), "{bonus}");
        }
        assert_eq!(p.table_target("loyalty_pushcampaign"), Some(Target::Push));
        assert_eq!(p.table_target("loyalty_admin_users"), Some(Target::Bonus));
        // A site profile's own lists win over the words.
        let p: Profile = toml::from_str("[tables]\nbonus = [\"loyalty_members\"]\n").unwrap();
        assert_eq!(p.table_target("loyalty_members"), Some(Target::Bonus));
        let p: Profile = toml::from_str("[tables]\ncustomer = [\"loyalty_cards\"]\n").unwrap();
        assert_eq!(p.table_target("loyalty_cards"), Some(Target::CustomerData));
        // The statement analysis reads the same tables the same way.
        let v = crate::sql::Vocab::default();
        assert!(!v.is_bonus_table("loyalty_customer") && v.is_account_table("loyalty_customer"));
        assert!(v.is_bonus_table("loyalty_bonusaccount") && v.is_bonus_table("bonus_accounts"));
    }

    #[test]
    fn profile_toml_and_cidr() {
        let p: Profile = toml::from_str(
            "[known_good]\noffice_ips = [\"198.51.100.0/24\"]\n[categories]\nbonus = [\"stars\"]\n",
        )
        .unwrap();
        assert!(p.is_office("198.51.100.77"));
        assert!(!p.is_office("198.51.101.1"));
        assert_eq!(p.route_target("/v2/stars/redeem"), Some(Target::Bonus));
        assert!(toml::from_str::<Profile>("[nonsense]\nx=1").is_err());
    }
}
