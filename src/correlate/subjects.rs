//! Signed-in gateway subjects that are not account ids (an identity provider's user
//! ids, e-mail addresses) mapped to the customer account each stands for.

use crate::model::{Event, SourceKind, Text};
use crate::roster::Roster;
use foldhash::{HashMap, HashMapExt, HashSet};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// The customer account of each signed-in gateway subject that is not an account id
/// itself: an identity provider's user id (`9f1c…` where paths say `/customers/1001`), an
/// e-mail address. The roster's answer first (its external ids and contacts); else the
/// account the subject's own requests name most, at least twice and more than twice as
/// often as any other (a customer's app names its own account on every screen; an
/// enumerating attacker names each of many once or twice, and stays unmapped when none
/// stands out). Subjects that are accounts (a path, the roster) and staff are left alone.
pub fn accounts(
    ev: &[Box<Event>],
    path_accounts: &[Option<Text>],
    roster: Option<&Roster>,
    staff: &HashSet<Text>,
) -> HashMap<Text, Text> {
    let named: Vec<(&Text, &Option<Text>)> = ev
        .par_iter()
        .zip(path_accounts)
        .filter(|(e, _)| e.kind() == SourceKind::Gateway)
        .filter_map(|(e, a)| {
            let u = e.user.as_ref().filter(|u| !staff.contains(*u))?;
            // An account the roster lists is no subject to map.
            if roster.is_some_and(|r| r.account_of(u) == Some(u.as_str())) {
                return None;
            }
            Some((u, a))
        })
        .collect();
    let accounts: HashSet<&str> = named.iter().filter_map(|(_, a)| a.as_deref()).collect();
    let mut counts: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for (u, a) in &named {
        if accounts.contains(u.as_str()) {
            continue;
        }
        let c = counts.entry(u.as_str()).or_default();
        if let Some(a) = a {
            *c.entry(a.as_str()).or_default() += 1;
        }
    }
    let mut out = HashMap::new();
    for (u, c) in counts {
        if let Some(acc) = roster.and_then(|r| r.account_of(u)) {
            out.insert(Text::from(u), Text::from(acc));
            continue;
        }
        let mut by: Vec<(usize, &str)> = c.iter().map(|(a, n)| (*n, *a)).collect();
        by.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(y.1)));
        let second = by.get(1).map_or(0, |x| x.0);
        if let Some(&(_, acc)) =
            (by.first()).filter(|(n, acc)| *n >= 2 && *n > 2 * second && *acc != u)
        {
            out.insert(Text::from(u), Text::from(acc));
        }
    }
    out
}
