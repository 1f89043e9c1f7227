//! The indexes over DB events that `enrich::Links` keeps: the application's pooled hosts
//! and users, and the days each DB identity (user and host) was seen on.

use crate::model::{Event, SourceKind, Text};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

const DAY_US: i64 = 86_400_000_000;
const HOUR_US: i64 = 3_600_000_000;

/// Whether a statement at `ts` (on `day`) runs on from an identity's activity of the day
/// before, given its last statement (time, day, whether that one ran on): it comes in
/// the first hour of its day, within an hour of the last, and the last was before
/// midnight or ran on itself. A session from 23:59 to 00:04 is one day's, not two:
/// a DB identity seen "on two days" is a routine job only when it came back.
fn runs_on((last_ts, last_day, last_on): (i64, i64, bool), ts: i64, day: i64) -> bool {
    ts - day * DAY_US < HOUR_US && ts - last_ts <= HOUR_US && (last_day < day || last_on)
}

/// The indexes over DB events.
#[derive(Default)]
pub(super) struct DbIndexes {
    /// Hosts and users of the application's pool: named on statements with request ids,
    /// or busy.
    pub(super) app_hosts: HashSet<Text>,
    pub(super) app_users: HashSet<Text>,
    /// (db user, host) → UTC days seen (`runs_on`).
    pub(super) identities: HashMap<(Text, Text), HashSet<i64>>,
}

impl DbIndexes {
    /// One pass over the statements with borrowed keys (a shared string is cloned once
    /// per key at the end, not once per statement: each clone is an atomic increment on
    /// a count the parallel passes touch too).
    pub(super) fn build(ev: &[Box<Event>]) -> DbIndexes {
        // Busy hosts and users are the application's pool even without request ids.
        let mut tagged_hosts: HashSet<&Text> = HashSet::new();
        let mut tagged_users: HashSet<&Text> = HashSet::new();
        let mut per_host: HashMap<&Text, usize> = HashMap::new();
        let mut per_user: HashMap<&Text, usize> = HashMap::new();
        let mut identities: HashMap<(&Text, Option<&Text>), HashSet<i64>> = HashMap::new();
        // Per identity: its last statement's time and day, and whether that one ran on
        // from the day before.
        let mut last: HashMap<(&Text, Option<&Text>), (i64, i64, bool)> = HashMap::new();
        let mut total = 0usize;
        for e in ev.iter().filter(|e| e.kind() == SourceKind::Db) {
            total += 1;
            if e.request_id.is_some() {
                tagged_hosts.extend(&e.db_host);
                tagged_users.extend(&e.db_user);
            }
            if let Some(h) = &e.db_host {
                *per_host.entry(h).or_default() += 1;
            }
            if let Some(u) = &e.db_user {
                *per_user.entry(u).or_default() += 1;
                let key = (u, e.db_host.as_ref());
                let day = e.ts.div_euclid(DAY_US);
                let prev = last.get(&key).copied();
                let on = prev.is_some_and(|p| runs_on(p, e.ts, day));
                last.insert(key, (e.ts, day, on));
                if !on {
                    identities.entry(key).or_default().insert(day);
                }
            }
        }
        // The application's pool: names on tagged statements, and the busy ones.
        let pool = |tagged: HashSet<&Text>, per: HashMap<&Text, usize>| -> HashSet<Text> {
            let busy = |n: usize| n * 10 >= total && total >= 100;
            tagged
                .into_iter()
                .chain(per.into_iter().filter(|x| busy(x.1)).map(|x| x.0))
                .cloned()
                .collect()
        };
        let mut x = DbIndexes {
            app_hosts: pool(tagged_hosts, per_host),
            app_users: pool(tagged_users, per_user),
            ..Default::default()
        };
        // A statement without a host and one with an empty host are one identity.
        for ((u, h), days) in identities {
            x.identities
                .entry((u.clone(), h.cloned().unwrap_or_default()))
                .or_default()
                .extend(days);
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::test_statement as statement;

    #[test]
    fn a_session_across_midnight_is_one_day_s_and_a_job_that_came_back_two() {
        const MIN: i64 = 60_000_000;
        let day = 20_000 * DAY_US;
        let at = |user: &str, ts: i64| {
            let mut e = statement("SELECT 1");
            e.db_user = Some(user.into());
            e.db_host = Some("192.0.2.77".into());
            e.ts = ts;
            Box::new(e)
        };
        // A session from 23:59 to 00:04, statements minutes apart; a nightly job at
        // 00:31 on two days; a pool busy every ten minutes over two days.
        let mut ev = vec![
            at("analytics", day - MIN),
            at("analytics", day + 2 * MIN),
            at("analytics", day + 4 * MIN),
            at("etl", day + 31 * MIN),
            at("etl", day + DAY_US + 31 * MIN),
        ];
        ev.extend((0..288).map(|k| at("app", day + k * 10 * MIN)));
        ev.sort_by_key(|e| e.ts);
        let x = DbIndexes::build(&ev);
        let days = |u: &str| x.identities[&(Text::from(u), Text::from("192.0.2.77"))].len();
        assert_eq!((days("analytics"), days("etl"), days("app")), (1, 2, 2));
    }
}
