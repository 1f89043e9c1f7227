//! The Parquet columns of one row group of events: one builder per column, filled in
//! a single pass over the events by each worker.

use super::STR_FIELDS;
use crate::model::{Event, Extra, SqlFacts};
use polars::prelude::*;

/// One column of a row group, filled event by event.
trait Build: Send {
    fn push(&mut self, e: &Event);
    fn finish(self: Box<Self>) -> PolarsResult<Column>;
}

/// A string column; `None` is null.
struct Strs {
    get: for<'a> fn(&'a Event) -> Option<&'a str>,
    b: StringChunkedBuilder,
}

impl Build for Strs {
    fn push(&mut self, e: &Event) {
        self.b.append_option((self.get)(e));
    }
    fn finish(self: Box<Self>) -> PolarsResult<Column> {
        Ok(self.b.finish().into_series().into())
    }
}

/// A column of plain (possibly optional) values, cast to `cast` when given.
struct Vals<T> {
    name: &'static str,
    get: fn(&Event) -> T,
    v: Vec<T>,
    cast: Option<DataType>,
}

impl<T: Send> Build for Vals<T>
where
    Series: NamedFrom<Vec<T>, [T]>,
{
    fn push(&mut self, e: &Event) {
        self.v.push((self.get)(e));
    }
    fn finish(self: Box<Self>) -> PolarsResult<Column> {
        let s = Series::new(self.name.into(), self.v);
        Ok(match &self.cast {
            Some(t) => s.cast(t)?,
            None => s,
        }
        .into())
    }
}

/// A nullable string column of JSON-serialized values.
struct Jsons {
    put: fn(&Event, &mut Vec<u8>) -> Option<serde_json::Result<()>>,
    b: StringChunkedBuilder,
    buf: Vec<u8>,
}

impl Build for Jsons {
    fn push(&mut self, e: &Event) {
        self.buf.clear();
        match (self.put)(e, &mut self.buf) {
            Some(Ok(())) => self
                .b
                .append_value(std::str::from_utf8(&self.buf).unwrap_or("")),
            _ => self.b.append_null(),
        }
    }
    fn finish(self: Box<Self>) -> PolarsResult<Column> {
        Ok(self.b.finish().into_series().into())
    }
}

/// The extra fields as the JSON object serde_json writes for them (`None` when there
/// are none), without its serializer: every event has a few, and keys and values that
/// need no escape — nearly all — are copied as they are.
fn extra_json(x: &Extra, buf: &mut Vec<u8>) -> Option<serde_json::Result<()>> {
    if x.is_empty() {
        return None;
    }
    buf.push(b'{');
    for (i, (k, v)) in x.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        if let Err(e) = json_str(k, buf).and_then(|()| {
            buf.push(b':');
            json_str(v, buf)
        }) {
            return Some(Err(e));
        }
    }
    buf.push(b'}');
    Some(Ok(()))
}

/// Statement facts as serde_json writes them (`SqlFacts` skips its empty lists, unset
/// flags and absent values), without its serializer for the fields most statements
/// have, as `extra_json` does for the extra fields: every statement of a case file
/// has this cell. The rare bonus changes and first row go through serde_json.
fn sql_json(f: Option<&SqlFacts>, buf: &mut Vec<u8>) -> Option<serde_json::Result<()>> {
    f.map(|f| sql_object(f, buf))
}

/// The object of `sql_json`.
fn sql_object(f: &SqlFacts, buf: &mut Vec<u8>) -> serde_json::Result<()> {
    // The object starts with its first member (or at the end, when it has none).
    let start = buf.len();
    let key = |buf: &mut Vec<u8>, k: &str| {
        buf.extend_from_slice(if buf.len() == start { b"{\"" } else { b",\"" });
        buf.extend_from_slice(k.as_bytes());
        buf.extend_from_slice(b"\":");
    };
    if !f.tables.is_empty() {
        key(buf, "tables");
        json_list(&f.tables, buf)?;
    }
    if f.whole_table_read {
        key(buf, "whole_table_read");
        buf.extend_from_slice(b"true");
    }
    if !f.account_ids.is_empty() {
        key(buf, "account_ids");
        json_list(&f.account_ids, buf)?;
    }
    if !f.bonus_changes.is_empty() {
        key(buf, "bonus_changes");
        serde_json::to_writer(&mut *buf, &f.bonus_changes)?;
    }
    if f.bonus_unnamed {
        key(buf, "bonus_unnamed");
        buf.extend_from_slice(b"true");
    }
    for (k, v) in [
        ("request_id", &f.request_id),
        ("application", &f.application),
        ("injection", &f.injection),
    ] {
        if let Some(v) = v {
            key(buf, k);
            json_str(v, buf)?;
        }
    }
    for (k, on) in [("fallback", f.fallback), ("script", f.script)] {
        if on {
            key(buf, k);
            buf.extend_from_slice(b"true");
        }
    }
    if f.page_rows > 0 {
        key(buf, "page_rows");
        buf.extend_from_slice(f.page_rows.to_string().as_bytes());
    }
    if let Some(r) = &f.key_range {
        key(buf, "key_range");
        serde_json::to_writer(&mut *buf, r)?;
    }
    if f.row_ids {
        key(buf, "row_ids");
        buf.extend_from_slice(b"true");
    }
    if f.contact_ids {
        key(buf, "contact_ids");
        buf.extend_from_slice(b"true");
    }
    if let Some(row) = &f.row {
        key(buf, "row");
        serde_json::to_writer(&mut *buf, row)?;
    }
    if buf.len() == start {
        buf.push(b'{');
    }
    buf.push(b'}');
    Ok(())
}

/// A list of strings as serde_json writes it.
fn json_list<S: AsRef<str>>(v: &[S], buf: &mut Vec<u8>) -> serde_json::Result<()> {
    buf.push(b'[');
    for (i, t) in v.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        json_str(t.as_ref(), buf)?;
    }
    buf.push(b']');
    Ok(())
}

/// A JSON string as serde_json writes it: escaped only for quotes, backslashes and
/// control characters. The test folds over every byte without stopping early, which
/// the compiler turns into vector compares: `all` went a byte at a time.
fn json_str(s: &str, buf: &mut Vec<u8>) -> serde_json::Result<()> {
    let escape = s
        .bytes()
        .fold(false, |a, b| a | (b < 0x20) | (b == b'"') | (b == b'\\'));
    if !escape {
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(buf, s)
    }
}

/// The builders of a row group of `n` events, in column order.
fn builders(n: usize) -> Vec<Box<dyn Build>> {
    fn vals<T: Send + 'static>(name: &'static str, n: usize, get: fn(&Event) -> T) -> Box<dyn Build>
    where
        Series: NamedFrom<Vec<T>, [T]>,
    {
        Box::new(Vals {
            name,
            get,
            v: Vec::with_capacity(n),
            cast: None,
        })
    }
    let strs = |name: &str, get: for<'a> fn(&'a Event) -> Option<&'a str>| -> Box<dyn Build> {
        Box::new(Strs {
            get,
            b: StringChunkedBuilder::new(name.into(), n),
        })
    };
    let jsons = |name: &str,
                 put: fn(&Event, &mut Vec<u8>) -> Option<serde_json::Result<()>>|
     -> Box<dyn Build> {
        Box::new(Jsons {
            put,
            b: StringChunkedBuilder::new(name.into(), n),
            buf: Vec::new(),
        })
    };
    let mut b: Vec<Box<dyn Build>> = vec![
        Box::new(Vals {
            name: "time",
            get: |e| e.ts,
            v: Vec::with_capacity(n),
            cast: Some(DataType::Datetime(TimeUnit::Microseconds, None)),
        }),
        strs("source", |e| Some(e.kind().as_str())),
        strs("format", |e| Some(e.format.as_str())),
        vals("file", n, |e| e.file),
        vals("line", n, |e| e.line),
        vals("offset", n, |e| e.offset),
        vals("tz_assumed", n, |e| e.tz_assumed),
    ];
    b.extend(STR_FIELDS.iter().map(|(name, get, _)| strs(name, *get)));
    b.extend([
        vals("status", n, |e| e.status.map(u32::from)),
        vals("bytes", n, |e| e.bytes),
        vals("latency_ms", n, |e| e.latency_ms),
        vals("recipients", n, |e| e.push().recipients),
        vals("delivered", n, |e| e.push().delivered),
        vals("failed", n, |e| e.push().failed),
        strs("stmt_class", |e| e.stmt_class.map(|c| c.as_str())),
        strs("outcome", |e| Some(e.outcome.as_str())),
        vals("truncated", n, |e| e.truncated),
        jsons("params", |e, buf| {
            e.params.as_deref().map(|p| json_list(p, buf))
        }),
        jsons("sql", |e, buf| sql_json(e.sql.as_deref(), buf)),
        jsons("extra", |e, buf| extra_json(&e.extra, buf)),
    ]);
    b
}

/// The columns of a row group. Each task reads every event once and fills its share of
/// the columns, where a pass per column would fetch every event once per column (45
/// times). Four tasks per thread: the string and JSON columns cost far more than the
/// numbers, and one group per thread left one thread waiting on the other.
pub(super) fn to_frame(ev: &[Box<Event>]) -> PolarsResult<DataFrame> {
    use rayon::prelude::*;
    let all = builders(ev.len());
    let ncol = all.len();
    let workers = (rayon::current_num_threads() * 4).clamp(1, ncol);
    // Deal columns round-robin so the heavy string and JSON columns spread out.
    let mut groups: Vec<Vec<(usize, Box<dyn Build>)>> = (0..workers).map(|_| Vec::new()).collect();
    for (i, b) in all.into_iter().enumerate() {
        groups[i % workers].push((i, b));
    }
    let built = groups
        .into_par_iter()
        .map(|mut g| {
            for e in ev {
                for (_, b) in g.iter_mut() {
                    b.push(e);
                }
            }
            g.into_iter()
                .map(|(i, b)| Ok((i, b.finish()?)))
                .collect::<PolarsResult<Vec<_>>>()
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    let mut cols: Vec<(usize, Column)> = built.into_iter().flatten().collect();
    cols.sort_by_key(|(i, _)| *i);
    DataFrame::new(ev.len(), cols.into_iter().map(|(_, c)| c).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Text;

    proptest::proptest! {
        /// The extra column holds exactly what serde_json writes for the map.
        #[test]
        fn extra_json_is_serde_json(
            kv in proptest::collection::vec(("[a-z_\"\\\\]{1,8}", "\\PC{0,12}|[\\x00-\\x7f]{0,12}"), 0..6),
        ) {
            let mut x = Extra::default();
            for (k, v) in &kv {
                x.insert(k, v.as_str());
            }
            let mut buf = Vec::new();
            let got = extra_json(&x, &mut buf).map(|r| r.map(|()| String::from_utf8(buf).unwrap()).unwrap());
            let want = (!x.is_empty()).then(|| serde_json::to_string(&x).unwrap());
            proptest::prop_assert_eq!(got, want);
        }

        /// The sql and params columns hold exactly what serde_json writes for them.
        #[test]
        fn sql_json_is_serde_json(
            tables in proptest::collection::vec(TEXT, 0..3),
            ids in proptest::collection::vec(TEXT, 0..3),
            bonus in proptest::collection::vec((TEXT, proptest::num::i64::ANY, proptest::bool::ANY), 0..2),
            opts in proptest::collection::vec(proptest::option::of(TEXT), 3),
            (whole, fallback, script, unnamed, row_ids) in (proptest::bool::ANY, proptest::bool::ANY, proptest::bool::ANY, proptest::bool::ANY, proptest::bool::ANY),
            page_rows in proptest::prop_oneof![proptest::strategy::Just(0u16), proptest::num::u16::ANY],
            row in proptest::option::of(proptest::collection::btree_map(TEXT, TEXT, 1..3)),
            range in proptest::option::of((
                proptest::option::of(proptest::num::i64::ANY),
                proptest::option::of(proptest::num::i64::ANY),
                proptest::option::of(proptest::bool::ANY),
                proptest::option::of(proptest::num::u64::ANY),
                proptest::prop_oneof![proptest::strategy::Just(0u64), proptest::num::u64::ANY],
                proptest::bool::ANY,
                proptest::option::of((proptest::num::i64::ANY, proptest::bool::ANY)),
            )),
            params in proptest::collection::vec(TEXT, 0..3),
            contact_ids in proptest::bool::ANY,
        ) {
            let mut buf = Vec::new();
            json_list(&params, &mut buf).unwrap();
            proptest::prop_assert_eq!(String::from_utf8(buf).unwrap(), serde_json::to_string(&params).unwrap());
            let texts = |v: &[String]| v.iter().map(|t| Text::from(t.as_str())).collect();
            let opt = |i: usize| opts[i].as_deref().map(Text::from);
            let f = SqlFacts {
                tables: texts(&tables),
                whole_table_read: whole,
                account_ids: texts(&ids),
                bonus_changes: bonus
                    .iter()
                    .map(|(a, d, abs)| crate::model::BonusChange {
                        account_id: a.as_str().into(),
                        delta: *d,
                        absolute: *abs,
                        table: "bonus_accounts".into(),
                        ledger: !abs,
                    })
                    .collect(),
                bonus_unnamed: unnamed,
                request_id: opt(0),
                application: opt(1),
                injection: opt(2),
                fallback,
                script,
                page_rows,
                key_range: range.map(|(from, to, desc, limit, offset, narrowed, step)| {
                    Box::new(crate::model::KeyRange {
                        from,
                        to,
                        order: desc.map(|d| match d {
                            true => crate::model::KeyOrder::Desc,
                            false => crate::model::KeyOrder::Asc,
                        }),
                        limit,
                        offset,
                        narrowed,
                        points: step.map(|(p, _)| p),
                        sets: step.is_some_and(|(_, s)| s),
                    })
                }),
                row_ids,
                contact_ids,
                row: row.map(Box::new),
            };
            let mut buf = vec![b'x'];
            sql_json(Some(&f), &mut buf).unwrap().unwrap();
            let want = serde_json::to_string(&f).unwrap();
            proptest::prop_assert_eq!(std::str::from_utf8(&buf[1..]).unwrap(), want);
        }
    }

    /// Keys and values: any printable text, or ASCII with control characters and quotes.
    const TEXT: &str = "\\PC{0,8}|[\\x00-\\x7f]{0,8}";

    #[test]
    fn sql_json_of_no_facts() {
        let mut buf = Vec::new();
        assert!(sql_json(None, &mut buf).is_none());
        sql_json(Some(&SqlFacts::default()), &mut buf)
            .unwrap()
            .unwrap();
        assert_eq!(buf, b"{}");
    }
}
