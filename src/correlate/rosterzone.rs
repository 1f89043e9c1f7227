//! The zone of a roster's creation times that carry none (`2025-11-04 11:50:12`: a
//! database's local `timestamp` column exported as it is), learned from the sign-ups
//! the evidence shows, and the note on the times no form read. Read as UTC, a customer
//! who signed up in the hours before an export would be placed after it, and left out
//! of those it exposed.

use super::Analysis;
use crate::profile::Profile;
use std::collections::BTreeMap;

/// Zones are whole quarter hours from UTC.
const QUARTER_US: i64 = 15 * 60 * 1_000_000;

/// How far the agreeing sign-ups' differences may lie from their median, once the zone
/// is taken off: the application writes the row as it answers the request, and a
/// roster may give whole minutes.
const SLACK_US: i64 = 2 * 60 * 1_000_000;

/// Widest zone offset (UTC−12 to UTC+14).
const MAX_OFFSET_US: i64 = 14 * 3_600 * 1_000_000;

/// Fewest sign-ups that must agree on one offset.
const MIN_VOTES: usize = 3;

/// The difference of each zone-less roster time from its account's sign-up in the
/// evidence (`signups`, UTC), where it is within a zone's reach.
fn differences<'a>(
    created: impl Iterator<Item = (&'a str, i64)>,
    signups: &dyn Fn(&str) -> Option<i64>,
) -> Vec<i64> {
    created
        .filter_map(|(acc, local)| Some(local - signups(acc)?))
        .filter(|d| d.abs() <= MAX_OFFSET_US + QUARTER_US / 2)
        .collect()
}

/// What the differences agree on: the zone's offset (the quarter hour most of them
/// round to), the shift that puts the roster's times on the evidence's clock (that
/// offset plus the median of their remainders: the roster's clock and the corrected
/// evidence's may differ by minutes), and how many agree — those within `SLACK_US` of
/// the median, when `MIN_VOTES` or more and over half of the differences.
fn agreed(ds: &[i64]) -> Option<(i64, i64, usize)> {
    let quarter = |d: i64| (d as f64 / QUARTER_US as f64).round() as i64 * QUARTER_US;
    let mut tally: BTreeMap<i64, usize> = BTreeMap::new();
    for &d in ds {
        *tally.entry(quarter(d)).or_default() += 1;
    }
    let (&q, _) = tally
        .iter()
        .max_by_key(|&(o, n)| (*n, std::cmp::Reverse(o.abs())))?;
    let mut rest: Vec<i64> = ds
        .iter()
        .filter(|&&d| quarter(d) == q)
        .map(|d| d - q)
        .collect();
    rest.sort_unstable();
    let median = rest[rest.len() / 2];
    let n = rest
        .iter()
        .filter(|r| (*r - median).abs() <= SLACK_US)
        .count();
    (n >= MIN_VOTES && n * 2 > ds.len()).then_some((q, q + median, n))
}

/// `+02:00`, `-03:30`.
fn offset_text(us: i64) -> String {
    let m = us.abs() / 60_000_000;
    let sign = if us < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// What the roster could not give: creation values no form was read from, whose
/// accounts count as existing at every time, and text that was not UTF-8.
pub fn unread(a: &Analysis) -> Vec<String> {
    let Some(r) = a.roster.as_ref() else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    if r.not_utf8 {
        notes.push(
            "The roster holds bytes that are neither UTF-8 nor UTF-16 (a spreadsheet saved in \
             a Windows code page): they were replaced, and names or contacts with letters \
             outside ASCII are damaged in the affected-customers file. Save the roster as \
             \"CSV UTF-8\" and run again before notifying anyone"
                .to_string(),
        );
    }
    if let Some((line, v)) = r.unread_created.first() {
        notes.push(format!(
            "{} of the roster's creation times could not be read as times (first: line \
             {line}, \"{}\"): their accounts count as existing at every time, so an export \
             may be said to expose customers created after it",
            r.unread_created.len(),
            crate::sanitize::shorten(v, 40)
        ));
    }
    notes
}

/// Reads the roster's zone-less creation times in the zone its accounts' sign-ups in the
/// evidence agree on; returns the note that says what was done, if any time has no zone.
pub fn learn(a: &mut Analysis, p: &Profile) -> Option<String> {
    let roster = a.roster.as_ref()?;
    let zoneless = (roster.customers.values())
        .filter(|c| c.created_zoneless && c.created.is_some())
        .count();
    if zoneless == 0 {
        return None;
    }
    let signups = super::impact::signups(&a.ing.events, p);
    let created = (roster.customers.values())
        .filter(|c| c.created_zoneless)
        .filter_map(|c| Some((c.account_id.as_str(), c.created?)));
    let ds = differences(created, &|acc| signups.get(acc).copied());
    let Some((zone, shift, n)) = agreed(&ds) else {
        return Some(format!(
            "{zoneless} of the roster's creation times carry no zone and were read as UTC: \
             {}. A customer created within a zone's offset of an export may be placed on \
             the wrong side of it",
            match ds.len() {
                0 => "none of their accounts signs up in the evidence to tell the zone".to_string(),
                k => format!(
                    "the sign-ups of {k} of their accounts in the evidence agree on no zone"
                ),
            }
        ));
    };
    if shift != 0 {
        if let Some(r) = a.roster.as_mut() {
            for c in r.customers.values_mut().filter(|c| c.created_zoneless) {
                c.created = c.created.map(|t| t - shift);
            }
        }
    }
    let clock = match shift - zone {
        d if d.abs() < 1_000_000 => String::new(),
        d => format!(
            ", and {:+} s of clock between the roster's source and the evidence's corrected clock",
            d / 1_000_000
        ),
    };
    Some(format!(
        "{zoneless} of the roster's creation times carry no zone: {n} of the {} accounts the \
         evidence shows signing up put them at UTC{}{clock}; they were read so (created_utc in \
         affected-customers.csv is the time so read)",
        ds.len(),
        offset_text(zone)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600 * 1_000_000;
    const S: i64 = 1_000_000;

    #[test]
    fn sign_ups_tell_the_zone_of_a_roster_s_local_times() {
        // Kyiv in winter, on a clock 249 s ahead of the evidence's: each roster time two
        // hours after the sign-up, give or take the application's own seconds; one
        // account's row made a day later.
        let signup: BTreeMap<&str, i64> = [
            ("1", 100 * H),
            ("2", 130 * H),
            ("3", 170 * H),
            ("4", 200 * H),
        ]
        .into();
        let roster = [
            ("1", 102 * H + 249 * S + 3 * S),
            ("2", 132 * H + 249 * S - S),
            ("3", 172 * H + 249 * S),
            ("4", 224 * H + 47 * 60 * S),
            ("5", 10 * H),
        ];
        let ds = differences(roster.into_iter(), &|a| signup.get(a).copied());
        assert_eq!(ds.len(), 3);
        assert_eq!(agreed(&ds), Some((2 * H, 2 * H + 249 * S, 3)));
        assert_eq!(offset_text(2 * H), "+02:00");
        assert_eq!(offset_text(-(3 * H + H / 2)), "-03:30");
        // Two agreeing sign-ups are too few.
        assert_eq!(agreed(&ds[..2]), None);
    }

    #[test]
    fn over_half_of_the_sign_ups_must_agree_to_the_minute() {
        // Three at +2 h; five that round to +2 h too but scatter over minutes, as a CRM
        // that records when an account was activated does.
        let ds: Vec<i64> = [0, 3, 1]
            .into_iter()
            .map(|s| 2 * H + s * S)
            .chain([-6, -4, 4, 5, 7].map(|m| 2 * H + m * 60 * S))
            .collect();
        assert_eq!(agreed(&ds), None);
        // Five of eight agree.
        let ds: Vec<i64> = [0, 3, 1, 50, 20]
            .into_iter()
            .map(|s| 2 * H + s * S)
            .chain([-6, 5, 7].map(|m| 2 * H + m * 60 * S))
            .collect();
        assert_eq!(agreed(&ds), Some((2 * H, 2 * H + 20 * S, 5)));
    }
}
