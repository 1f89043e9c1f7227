//! Creation times as spreadsheets and CRMs export them: `11/18/2024 14:33`,
//! `18.11.2024 14:33:28`, `18/11/2024`, `2024/11/18 2:33 PM`. Whether a slashed column
//! gives the day or the month first is what its values allow: a first number over 12 is
//! a day, a second number over 12 is one; a column where neither is ever seen is left
//! unread rather than guessed.

use chrono::{NaiveDate, NaiveTime};
use regex::Regex;
use std::sync::LazyLock;

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(\d{1,4})([/.\-])(\d{1,2})([/.\-])(\d{1,4}),?(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([ap]\.?m\.?)?)?$",
    )
    .expect("static regex")
});

/// Which of a date's first two numbers is the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    DayFirst,
    MonthFirst,
}

/// The numbers of a value: (first, separator, second, third, time).
type Parts<'a> = (
    u32,
    &'a str,
    u32,
    u32,
    Option<(u32, u32, u32, Option<&'a str>)>,
);

fn parts(s: &str) -> Option<Parts<'_>> {
    let c = DATE.captures(s.trim())?;
    if c[2] != c[4] {
        return None;
    }
    let n = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let time = match n(6) {
        Some(h) => Some((h, n(7)?, n(8).unwrap_or(0), c.get(9).map(|m| m.as_str()))),
        None => None,
    };
    Some((n(1)?, c.get(2)?.as_str(), n(3)?, n(5)?, time))
}

/// The order a column's values allow: `None` where they are all year-first or
/// dotted (which say it themselves), or where none shows a number over 12.
pub fn order<'a>(values: impl Iterator<Item = &'a str>) -> Option<Order> {
    let (mut day_first, mut month_first) = (false, false);
    for v in values {
        let Some((a, sep, b, _, _)) = parts(v) else {
            continue;
        };
        if a > 31 || sep == "." {
            continue;
        }
        day_first |= a > 12;
        month_first |= b > 12;
    }
    match (day_first, month_first) {
        (true, false) => Some(Order::DayFirst),
        (false, true) => Some(Order::MonthFirst),
        _ => None,
    }
}

/// A value's time as written (no zone: µs as if UTC), in `order` where it is slashed
/// and day-or-month first; dotted dates are day first, year-first ones need no order.
pub fn parse(s: &str, order: Option<Order>) -> Option<i64> {
    let (a, sep, b, c, time) = parts(s)?;
    let (y, m, d) = if a > 31 {
        (a as i32, b, c)
    } else if c < 100 {
        return None;
    } else if sep == "." || order == Some(Order::DayFirst) {
        (c as i32, b, a)
    } else if order == Some(Order::MonthFirst) {
        (c as i32, a, b)
    } else {
        return None;
    };
    let date = NaiveDate::from_ymd_opt(y, m, d)?;
    let t = match time {
        None => NaiveTime::MIN,
        Some((h, mi, se, ampm)) => {
            let h = match ampm.map(|x| x.to_ascii_lowercase().starts_with('p')) {
                None => h,
                Some(_) if h == 0 || h > 12 => return None,
                Some(false) => h % 12,
                Some(true) => h % 12 + 12,
            };
            NaiveTime::from_hms_opt(h, mi, se)?
        }
    };
    Some(date.and_time(t).and_utc().timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .unwrap()
            .and_utc()
            .timestamp_micros()
    }

    #[test]
    fn a_column_s_values_tell_day_from_month() {
        let us = ["11/18/2024 14:33", "03/04/2025 09:00"];
        assert_eq!(order(us.into_iter()), Some(Order::MonthFirst));
        let eu = ["18/11/2024", "03/04/2025"];
        assert_eq!(order(eu.into_iter()), Some(Order::DayFirst));
        // Nothing over twelve: no order, and no value read.
        let unsure = ["03/04/2025", "11/12/2024"];
        assert_eq!(order(unsure.into_iter()), None);
        assert_eq!(parse("03/04/2025", None), None);
        // Both at once: not one column's order.
        assert_eq!(order(["18/11/2024", "11/18/2024"].into_iter()), None);
    }

    #[test]
    fn spreadsheet_and_crm_forms() {
        let m = Some(Order::MonthFirst);
        let d = Some(Order::DayFirst);
        assert_eq!(
            parse("11/18/2024 14:33", m),
            Some(at("2024-11-18 14:33:00"))
        );
        assert_eq!(
            parse("11/18/2024 2:33:07 PM", m),
            Some(at("2024-11-18 14:33:07"))
        );
        assert_eq!(
            parse("1/2/2025 12:05 am", m),
            Some(at("2025-01-02 00:05:00"))
        );
        assert_eq!(parse("18/11/2024", d), Some(at("2024-11-18 00:00:00")));
        assert_eq!(
            parse("18.11.2024 14:33:28", None),
            Some(at("2024-11-18 14:33:28"))
        );
        assert_eq!(
            parse("2024/11/18 14:33", None),
            Some(at("2024-11-18 14:33:00"))
        );
        assert_eq!(
            parse("18-11-2024 14:33:28,123", d),
            Some(at("2024-11-18 14:33:28"))
        );
        // Not dates, or impossible ones.
        for s in [
            "31/02/2024",
            "11/18/24",
            "13:00 11/18/2024",
            "2024/11-18",
            "14 PM",
        ] {
            assert_eq!(parse(s, d), None, "{s}");
        }
        assert_eq!(parse("11/18/2024 13:00 PM", m), None);
    }
}
