//! Ranges of account keys a listing request asks for in its query: PostgREST's filters
//! (Supabase's `/rest/v1/customers?id=gte.1001&id=lte.1100&order=id.asc&limit=100`),
//! comparison keys as Django, JSON:API and json-server spell them (`id__gte=`,
//! `filter[id][gte]=`, `id_gte=`), and cursors by key (`since_id=`, `after_id=`,
//! `min_id=`). A script walking an API's customer list by key shows its rows in them,
//! as a statement's `BETWEEN` does.

use crate::model::{Event, KeyOrder, KeyRange};
use crate::sql::Vocab;

/// A bound on the key: lower or upper, inclusive or not.
#[derive(Clone, Copy, PartialEq)]
enum Bound {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
}

/// Query keys (normalized: lower case, without `_ - [ ] .`) that bound the key by
/// themselves, and how. A cursor after a key lists upwards, one before it downwards.
const CURSORS: &[(&str, Bound, Option<KeyOrder>)] = &[
    ("sinceid", Bound::Gt, Some(KeyOrder::Asc)),
    ("afterid", Bound::Gt, Some(KeyOrder::Asc)),
    ("startafterid", Bound::Gt, Some(KeyOrder::Asc)),
    ("fromid", Bound::Gte, None),
    ("startid", Bound::Gte, None),
    ("minid", Bound::Gte, None),
    ("idfrom", Bound::Gte, None),
    ("idmin", Bound::Gte, None),
    ("beforeid", Bound::Lt, Some(KeyOrder::Desc)),
    ("untilid", Bound::Lte, None),
    ("toid", Bound::Lte, None),
    ("endid", Bound::Lte, None),
    ("maxid", Bound::Lte, None),
    ("idto", Bound::Lte, None),
    ("idmax", Bound::Lte, None),
];

/// Query keys that order the list (`order=id.desc`, `sort=-id`, `ordering=id`).
const ORDER_KEYS: &[&str] = &["order", "orderby", "sort", "sortby", "ordering"];
/// Query keys that give the order's direction alone (`dir=desc`).
const DIRECTION_KEYS: &[&str] = &["dir", "direction", "sortdir", "sortdirection", "orderdir"];
/// Query keys that shape the answer without choosing rows: PostgREST's `select`,
/// field lists, formats, API keys and tokens, cache busters.
const NEUTRAL_KEYS: &[&str] = &[
    "select",
    "fields",
    "include",
    "expand",
    "format",
    "apikey",
    "key",
    "accesstoken",
    "token",
    "locale",
    "lang",
    "callback",
    "",
    "t",
    "ts",
    "v",
    "version",
    "pretty",
];

/// The range of keys a request asks for, by the default vocabulary's account columns.
pub fn ranged(e: &Event) -> Option<KeyRange> {
    static VOCAB: std::sync::LazyLock<Vocab> = std::sync::LazyLock::new(Vocab::default);
    request_range(e, &VOCAB)
}

fn normalized(k: &str) -> String {
    (k.chars())
        .filter(|c| !matches!(c, '_' | '-' | '[' | ']' | '.' | '%'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether a query key's column is the listing's key: `id`, or an account column.
fn key_column(col: &str, vocab: &Vocab) -> bool {
    col.eq_ignore_ascii_case("id") || vocab.is_account_column(col)
}

/// A comparison a key spells in its name (`id__gte`, `id[gte]`, `filter[id][gte]`,
/// `id_gte`): its column and bound.
fn named_comparison(raw: &str) -> Option<(String, Bound)> {
    let k = raw.strip_prefix("filter").unwrap_or(raw);
    let parts: Vec<&str> = k.split(['[', ']', '_']).filter(|p| !p.is_empty()).collect();
    let (op, col) = parts.split_last()?;
    let bound = match op.to_ascii_lowercase().as_str() {
        "gt" => Bound::Gt,
        "gte" | "ge" | "min" | "from" => Bound::Gte,
        "lt" => Bound::Lt,
        "lte" | "le" | "max" | "to" => Bound::Lte,
        _ => return None,
    };
    (!col.is_empty()).then(|| (col.join("_"), bound))
}

/// The range of keys a request's query asks for, with its order, size and offset;
/// `None` where it bounds no key by an integer, or asks for a numbered page (the
/// harvest of pages counts those). The range's rows are an upper bound (`narrowed`)
/// where the query also filters by other keys.
pub fn request_range(e: &Event, vocab: &Vocab) -> Option<KeyRange> {
    let path = e.path.as_deref().unwrap_or("");
    let inline = path.split_once('?').map_or("", |(_, q)| q);
    let pairs: Vec<(String, String)> = [inline, e.query.as_deref().unwrap_or("")]
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let k = crate::sql::url_decode(k);
            (k.to_string(), crate::sql::url_decode(v).to_string())
        })
        .collect();
    let mut r = KeyRange::default();
    let (mut bounded, mut cursor_order) = (false, None);
    let mut bound = |r: &mut KeyRange, b: Bound, v: &str| -> bool {
        let Ok(n) = v.trim().parse::<i64>() else {
            return false;
        };
        let (lo, hi) = match b {
            Bound::Gt => (n.checked_add(1), None),
            Bound::Gte => (Some(n), None),
            Bound::Lt => (None, n.checked_sub(1)),
            Bound::Lte => (None, Some(n)),
            Bound::Eq => (Some(n), Some(n)),
        };
        if let Some(lo) = lo {
            r.from = Some(r.from.map_or(lo, |f| f.max(lo)));
        }
        if let Some(hi) = hi {
            r.to = Some(r.to.map_or(hi, |t| t.min(hi)));
        }
        bounded = true;
        true
    };
    let mut order_value: Option<String> = None;
    let mut direction: Option<String> = None;
    for (raw, v) in &pairs {
        let k = normalized(raw);
        // PostgREST: `id=gte.1001`.
        if let Some((op, val)) = v.split_once('.') {
            let b = match op {
                "gt" => Some(Bound::Gt),
                "gte" => Some(Bound::Gte),
                "lt" => Some(Bound::Lt),
                "lte" => Some(Bound::Lte),
                "eq" => Some(Bound::Eq),
                _ => None,
            };
            if let Some(b) = b.filter(|_| key_column(raw, vocab)) {
                if bound(&mut r, b, val) {
                    continue;
                }
            }
        }
        if let Some((_, b, o)) = CURSORS.iter().find(|(c, _, _)| *c == k) {
            if bound(&mut r, *b, v) {
                cursor_order = cursor_order.or(*o);
                continue;
            }
        }
        if let Some((_, b)) = named_comparison(raw).filter(|(c, _)| key_column(c, vocab)) {
            if bound(&mut r, b, v) {
                continue;
            }
        }
        if ORDER_KEYS.contains(&k.as_str()) {
            order_value = Some(v.clone());
        } else if DIRECTION_KEYS.contains(&k.as_str()) {
            direction = Some(v.to_ascii_lowercase());
        } else if super::pages::SIZE_KEYS.contains(&k.as_str()) {
            r.limit = v.trim().parse().ok().or(r.limit);
        } else if k == "offset" || k == "skip" {
            r.offset = v.trim().parse().unwrap_or(0);
        } else if super::pages::PAGE_KEYS.contains(&k.as_str()) {
            // A numbered page or a cursor of its own: the harvest of pages counts it.
            return None;
        } else if !NEUTRAL_KEYS.contains(&k.as_str()) {
            r.narrowed = true;
        }
    }
    if !bounded {
        return None;
    }
    r.order = match order_value {
        Some(o) => order_of(&o, direction.as_deref(), vocab)?,
        None => cursor_order.or(match direction.as_deref() {
            Some("desc") | Some("descending") => Some(KeyOrder::Desc),
            _ => None,
        }),
    };
    Some(r)
}

/// The key order an order parameter gives (`id.desc`, `-id`, `id:desc`, `id desc`,
/// `id`): `Some(None)` where it orders by another column (rows in no key order);
/// `None` where it names several columns the listing's key is not first of.
fn order_of(v: &str, direction: Option<&str>, vocab: &Vocab) -> Option<Option<KeyOrder>> {
    let first = v.split(',').next().unwrap_or("").trim();
    let (desc_sign, col) = match first.strip_prefix('-') {
        Some(c) => (true, c),
        None => (false, first.strip_prefix('+').unwrap_or(first)),
    };
    let mut words = col.split(['.', ':', ' ']).filter(|w| !w.is_empty());
    let name = words.next().unwrap_or("");
    let dir = words.next().map(str::to_ascii_lowercase);
    if !key_column(name, vocab) {
        return Some(None);
    }
    let desc = desc_sign
        || dir.as_deref() == Some("desc")
        || (dir.is_none() && matches!(direction, Some("desc") | Some("descending")));
    Some(Some(if desc { KeyOrder::Desc } else { KeyOrder::Asc }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceKind;

    fn range(path: &str) -> Option<KeyRange> {
        let mut e = Event::new(SourceKind::Gateway, "kong");
        e.path = Some(path.into());
        request_range(&e, &Vocab::default())
    }

    fn parts(
        r: &KeyRange,
    ) -> (
        Option<i64>,
        Option<i64>,
        Option<KeyOrder>,
        Option<u64>,
        u64,
        bool,
    ) {
        (r.from, r.to, r.order, r.limit, r.offset, r.narrowed)
    }

    #[test]
    fn postgrest_filters_bound_the_key() {
        let r = range("/rest/v1/customers?select=*&id=gte.1001&id=lte.1100&order=id.asc&limit=100")
            .unwrap();
        assert_eq!(
            parts(&r),
            (
                Some(1001),
                Some(1100),
                Some(KeyOrder::Asc),
                Some(100),
                0,
                false
            )
        );
        let r = range("/rest/v1/customers?customer_id=gt.5000&order=customer_id.desc.nullslast&limit=50&offset=100").unwrap();
        assert_eq!(
            parts(&r),
            (Some(5001), None, Some(KeyOrder::Desc), Some(50), 100, false)
        );
        // Another filter narrows the rows; an order by another column is no key order.
        let r =
            range("/rest/v1/customers?id=lt.300&status=eq.active&order=created_at.desc&limit=10")
                .unwrap();
        assert_eq!(parts(&r), (None, Some(299), None, Some(10), 0, true));
    }

    #[test]
    fn comparison_keys_and_cursors_bound_the_key() {
        for path in [
            "/api/customers?id__gte=1001&id__lte=1100",
            "/api/customers?filter[id][gte]=1001&filter[id][lte]=1100",
            "/api/customers?id_gte=1001&id_lte=1100",
            "/api/customers?min_id=1001&max_id=1100",
        ] {
            let r = range(path).unwrap_or_else(|| panic!("{path}"));
            assert_eq!(
                (r.from, r.to, r.narrowed),
                (Some(1001), Some(1100), false),
                "{path}"
            );
        }
        let r = range("/admin/api/2024-01/customers.json?since_id=4200&limit=250").unwrap();
        assert_eq!(
            parts(&r),
            (Some(4201), None, Some(KeyOrder::Asc), Some(250), 0, false)
        );
        let r = range("/api/customers?before_id=900&per_page=20&sort=-id").unwrap();
        assert_eq!(r.order, Some(KeyOrder::Desc));
        assert_eq!((r.to, r.limit), (Some(899), Some(20)));
    }

    #[test]
    fn requests_that_bound_no_integer_key_have_no_range() {
        for path in [
            "/api/customers?page=3&per_page=100",
            "/api/customers?since_id=cus_9f8a&limit=10",
            "/api/customers?created_at__gte=2025-01-01",
            "/api/customers?id__gte=10&page=2",
            "/api/customers/1001",
        ] {
            assert!(range(path).is_none(), "{path}");
        }
    }
}
