//! Which account or device a request path names: segments after the profile's customer
//! words, route placeholders about accounts, and the segments the evidence itself shows
//! to carry account ids (`/wallets/100233/points`).

use crate::model::{lower, Event, SourceKind, Text};
use crate::profile::Profile;
use crate::roster::Roster;
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use rayon::prelude::*;

fn looks_like_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' || c == '@')
        && s.chars().any(|c| c.is_ascii_digit())
}

fn is_account_word(p: &Profile, seg: &str) -> bool {
    let s = seg.to_ascii_lowercase();
    p.categories
        .customer_data
        .iter()
        .any(|w| s.contains(w.as_str()))
        && !s.starts_with('{')
}

/// Path segments (lower case) after which this evidence's paths carry account ids,
/// though the segment holds no customer word: `wallets`, `loyalty`, `guests`.
#[derive(Debug, Default, Clone)]
pub struct AccountSegs(HashSet<String>);

impl AccountSegs {
    fn names_accounts(&self, p: &Profile, seg: &str) -> bool {
        is_account_word(p, seg) || (!self.0.is_empty() && self.0.contains(lower(seg).as_ref()))
    }
    /// The learned segments, sorted (for notes and tests).
    pub fn sorted(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.0.iter().map(String::as_str).collect();
        v.sort_unstable();
        v
    }
}

/// Fewest path values after a segment before it may be learned.
const LEARN_MIN: u32 = 20;
/// Fewest distinct known accounts among them.
const LEARN_MIN_ACCOUNTS: usize = 10;

/// Learns the segments after which paths name accounts. Such a segment is followed by
/// values that are known accounts — the roster's, those the database's statements name,
/// the gateway's authenticated subjects — at least four times in five, and each value
/// is requested from few addresses (an account is its owner's, an attacker's reading it
/// adds one): a catalog whose item numbers happen to fall among the account numbers is
/// requested by every customer alike.
pub fn learn(events: &[Box<Event>], roster: Option<&Roster>, p: &Profile) -> AccountSegs {
    // Gathered on both cores: a set per worker, merged (tens of thousands of accounts
    // against millions of events).
    let mut known: HashSet<&str> = events
        .par_iter()
        .fold(HashSet::new, |mut known, e| {
            match e.kind() {
                SourceKind::Db => {
                    if let Some(f) = &e.sql {
                        known.extend(f.account_ids.iter().map(Text::as_str));
                    }
                }
                SourceKind::Gateway => known.extend(e.user.as_deref()),
                SourceKind::Push => {}
            }
            known
        })
        .reduce(HashSet::new, union);
    if let Some(r) = roster {
        known.extend(r.customers.keys().map(String::as_str));
    }
    if known.is_empty() {
        return AccountSegs::default();
    }
    type Tally<'a> = HashMap<&'a str, (u32, u32, HashSet<(&'a str, &'a str)>)>;
    let tally: Tally = events
        .par_iter()
        .filter(|e| e.kind() == SourceKind::Gateway)
        .fold(Tally::new, |mut t, e| {
            let (Some(path), ip) = (e.path.as_deref(), e.client_ip.as_deref().unwrap_or("")) else {
                return t;
            };
            let mut prev: Option<&str> = None;
            for seg in path.split('/').filter(|s| !s.is_empty()) {
                if let Some(w) = prev {
                    if looks_like_id(seg) && !is_account_word(p, w) {
                        let x = t.entry(w).or_default();
                        x.0 += 1;
                        if known.contains(seg) {
                            x.1 += 1;
                            x.2.insert((seg, ip));
                        }
                    }
                }
                prev = Some(seg).filter(|s| !looks_like_id(s) && !s.starts_with('{'));
            }
            t
        })
        .reduce(Tally::new, |mut a, b| {
            for (k, (n, hits, pairs)) in b {
                let x = a.entry(k).or_default();
                x.0 += n;
                x.1 += hits;
                x.2.extend(pairs);
            }
            a
        });
    let mut segs = HashSet::new();
    for (seg, (n, hits, pairs)) in tally {
        let values: HashSet<&str> = pairs.iter().map(|(v, _)| *v).collect();
        let few_addresses = pairs.len() <= 3 * values.len();
        if n >= LEARN_MIN
            && hits * 5 >= n * 4
            && values.len() >= LEARN_MIN_ACCOUNTS
            && few_addresses
        {
            segs.insert(lower(seg).into_owned());
        }
    }
    AccountSegs(segs)
}

/// Two sets as one, the smaller poured into the larger.
pub(super) fn union<'a>(a: HashSet<&'a str>, b: HashSet<&'a str>) -> HashSet<&'a str> {
    let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    big.extend(small);
    big
}

/// The account a request path names: a route placeholder about accounts, or the segment
/// after an account-word segment (or a segment the evidence showed to name accounts).
pub fn path_account(
    route: Option<&str>,
    path: &str,
    p: &Profile,
    learned: &AccountSegs,
) -> Option<Text> {
    let ps: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(r) = route.filter(|r| r.contains('{')) {
        let rs: Vec<&str> = r.split('/').filter(|s| !s.is_empty()).collect();
        if ps.len() >= rs.len() {
            let off = ps.len() - rs.len();
            for (i, seg) in rs.iter().enumerate() {
                if let Some(name) = seg.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
                    let n = name.to_ascii_lowercase();
                    let by_name =
                        (p.categories.customer_data.iter()).any(|w| n.contains(w.as_str()));
                    let by_prev = i > 0
                        && ((n == "id" && is_account_word(p, rs[i - 1]))
                            || learned.0.contains(lower(rs[i - 1]).as_ref()));
                    if by_name || by_prev {
                        return Some(Text::from(ps[off + i]));
                    }
                }
            }
            return None;
        }
    }
    for w in ps.windows(2) {
        if learned.names_accounts(p, w[0]) && looks_like_id(w[1]) {
            return Some(Text::from(w[1]));
        }
    }
    None
}

/// The account a query string names: a parameter called for a customer word, alone or
/// with `id` (`account=100233`, `customer_id=…`, `userId=…`), whose value looks like an
/// id. Staff tools pass the account they act on this way (`/admin/bonus/adjustments?
/// account=100233`); other parameters that merely contain such a word (`user_agent`,
/// `userType`) are not read.
pub fn query_account(query: Option<&str>, p: &Profile) -> Option<Text> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        let k: String = (k.chars())
            .filter(|c| *c != '_' && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let base = k.strip_suffix("id").unwrap_or(&k);
        let named = p.categories.customer_data.iter().any(|w| w == base);
        (named && looks_like_id(v)).then(|| Text::from(v))
    })
}

/// The device a device-registration path names.
pub fn path_device(path: &str, p: &Profile) -> Option<String> {
    let ps: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    ps.windows(2)
        .find(|w| {
            p.categories
                .device
                .iter()
                .any(|d| w[0].to_ascii_lowercase().contains(d.as_str()))
        })
        .map(|w| w[1].to_string())
        .filter(|d| d.len() >= 8)
}

/// The device a written row names (inserted, or set by an UPDATE): the value of a
/// column named for a device, an installation or a push token or subscription
/// (`installation_id`, `fcm_token`, `player_id`, `endpoint_arn`) that reads as an
/// identifier — long, without spaces (`device_type = 'android'` names none).
pub fn row_device(row: &std::collections::BTreeMap<String, String>) -> Option<&str> {
    row.iter()
        .find(|(c, v)| {
            crate::sql::is_device_column(c) && v.len() >= 16 && !v.chars().any(char::is_whitespace)
        })
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_names_its_device_by_column_and_shape() {
        let row = |kv: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let r = row(&[
            ("account_id", "100638"),
            ("device_type", "android"),
            ("installation_id", "0NYOwRG37g__U93FxYIpFy"),
        ]);
        assert_eq!(row_device(&r), Some("0NYOwRG37g__U93FxYIpFy"));
        let r = row(&[("Player_ID", "b98c5c2e-8d7a-4c3f-9f61-2f0c1d3e4a5b")]);
        assert!(row_device(&r).is_some());
        // Short values, text with spaces and columns named for no device name none.
        assert_eq!(
            row_device(&row(&[("device_model", "Pixel 8 Pro Max Ultra")])),
            None
        );
        assert_eq!(row_device(&row(&[("device", "ios")])), None);
        assert_eq!(
            row_device(&row(&[("body", "0NYOwRG37g__U93FxYIpFy")])),
            None
        );
    }

    #[test]
    fn placeholders_named_for_guests_name_accounts() {
        let p = Profile::default();
        let none = AccountSegs::default();
        for (route, path) in [
            ("/api/guests/{guestId}/stars", "/api/guests/100042/stars"),
            ("/v2/patrons/{patronId}", "/v2/patrons/100042"),
            ("/v2/guests/{id}/visits", "/v2/guests/100042/visits"),
        ] {
            let got = path_account(Some(route), path, &p, &none);
            assert_eq!(got.as_deref(), Some("100042"), "{route}");
        }
        assert_eq!(
            query_account(Some("guestId=100042"), &p).as_deref(),
            Some("100042")
        );
        let menu = path_account(Some("/api/menu/{itemId}"), "/api/menu/100042", &p, &none);
        assert_eq!(menu, None);
    }

    #[test]
    fn accounts_from_templates_and_plain_paths() {
        let p = Profile::default();
        let none = AccountSegs::default();
        assert_eq!(
            path_account(
                Some("/api/v1/accounts/{accountId}/bonus"),
                "/api/v1/accounts/100042/bonus",
                &p,
                &none
            )
            .as_deref(),
            Some("100042")
        );
        assert_eq!(
            path_account(Some("/v2/users/{id}"), "/prod/v2/users/1007", &p, &none).as_deref(),
            Some("1007")
        );
        assert_eq!(
            path_account(None, "/admin/customers/100042", &p, &none).as_deref(),
            Some("100042")
        );
        assert_eq!(
            path_account(None, "/admin/customers/export", &p, &none),
            None
        );
        assert_eq!(
            path_account(Some("/api/v1/menu/{itemId}"), "/api/v1/menu/12", &p, &none),
            None
        );
        let q = |s: &str| query_account(Some(s), &p);
        assert_eq!(q("account=100233").as_deref(), Some("100233"));
        assert_eq!(q("page=2&customer_id=100233").as_deref(), Some("100233"));
        assert_eq!(q("userId=u-17").as_deref(), Some("u-17"));
        assert_eq!(q("userType=2&user_agent=x1&accounts=all"), None);
        assert_eq!(q("account="), None);
        assert_eq!(query_account(None, &p), None);
        assert_eq!(
            path_device("/api/v1/customers/7/devices/eJ9kQ2vXR0mZb1a8C4dQyT", &p).as_deref(),
            Some("eJ9kQ2vXR0mZb1a8C4dQyT")
        );
    }

    fn request(path: &str, ip: &str) -> Box<Event> {
        let mut e = Event::new(SourceKind::Gateway, "envoy");
        e.path = Some(path.into());
        e.client_ip = Some(ip.into());
        Box::new(e)
    }

    fn balance_read(account: &str) -> Box<Event> {
        let mut e = Event::new(SourceKind::Db, "pg-stderr");
        let (class, facts) = crate::sql::analyze(
            &format!("SELECT balance FROM bonus_wallets WHERE account_id = {account}"),
            &[],
            crate::sql::Dialect::Postgres,
            &Default::default(),
        );
        e.stmt_class = Some(class);
        e.sql = Some(Box::new(facts));
        Box::new(e)
    }

    #[test]
    fn a_segment_followed_by_known_accounts_names_them_and_a_catalog_does_not() {
        let p = Profile::default();
        let mut ev = Vec::new();
        for i in 0..40u32 {
            let acc = (100_000 + i).to_string();
            ev.push(balance_read(&acc));
            // Each customer reads their own wallet from their own address.
            let ip = format!("10.0.{i}.1");
            ev.push(request(&format!("/v2/wallets/{acc}/points"), &ip));
            ev.push(request(&format!("/v2/wallets/{acc}/points"), &ip));
            // Every customer browses a dozen catalog items, numbered like the accounts.
            for k in 0..12u32 {
                let item = 100_000 + (i + k) % 40;
                ev.push(request(&format!("/v2/prizes/{item}"), &ip));
            }
            // A menu whose numbers are no accounts at all.
            ev.push(request(&format!("/v2/menu/{}", 7 + i), &ip));
        }
        let learned = learn(&ev, None, &p);
        assert_eq!(learned.sorted(), ["wallets"]);
        assert_eq!(
            path_account(None, "/v2/wallets/100007/points", &p, &learned).as_deref(),
            Some("100007")
        );
        assert_eq!(
            path_account(
                Some("/v2/wallets/{walletId}/points"),
                "/v2/wallets/100007/points",
                &p,
                &learned
            )
            .as_deref(),
            Some("100007")
        );
        assert_eq!(path_account(None, "/v2/prizes/100003", &p, &learned), None);
        // Without evidence of accounts, nothing is learned.
        let gw: Vec<Box<Event>> = ev
            .into_iter()
            .filter(|e| e.kind() == SourceKind::Gateway)
            .collect();
        assert!(learn(&gw, None, &p).sorted().is_empty());
    }
}
