//! The Parquet columns of one row group of events: one builder per column, filled in
//! a single pass over the events by each worker.

use super::STR_FIELDS;
use crate::model::{Event, Extra};
use polars::prelude::*;
use serde::Serialize;

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

fn json<T: Serialize + ?Sized>(v: Option<&T>, buf: &mut Vec<u8>) -> Option<serde_json::Result<()>> {
    v.map(|v| serde_json::to_writer(buf, v))
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

/// A JSON string as serde_json writes it: escaped only for quotes, backslashes and
/// control characters.
fn json_str(s: &str, buf: &mut Vec<u8>) -> serde_json::Result<()> {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
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
        jsons("params", |e, buf| json(e.params.as_deref(), buf)),
        jsons("sql", |e, buf| json(e.sql.as_deref(), buf)),
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
    }
}
