//! JSON documents with a schema tag: `breachline.waves/1` and `breachline.report/1`.
//! Built from typed structs through serde_json, never by string concatenation.

use crate::correlate::{Analysis, Wave};
use crate::timeparse::fmt_utc;
use serde::Serialize;

/// One wave in JSON.
#[derive(Debug, Serialize)]
pub struct WaveJson {
    /// Number.
    pub id: u32,
    /// Start, RFC 3339 Z.
    pub start_utc: String,
    /// End.
    pub end_utc: String,
    /// Duration in seconds.
    pub duration_s: i64,
    /// Targets.
    pub targets: Vec<&'static str>,
    /// Techniques.
    pub techniques: Vec<&'static str>,
    /// Attacker addresses.
    pub attacker_ips: Vec<String>,
    /// Principals.
    pub principals: Vec<String>,
    /// Attacker events.
    pub events: usize,
    /// Events per source.
    pub events_by_source: std::collections::BTreeMap<&'static str, usize>,
    /// Accounts affected.
    pub accounts_affected: usize,
    /// Malicious messages.
    pub messages: Vec<String>,
}

impl From<&Wave> for WaveJson {
    fn from(w: &Wave) -> Self {
        WaveJson {
            id: w.id,
            start_utc: fmt_utc(w.start),
            end_utc: fmt_utc(w.end),
            duration_s: (w.end - w.start) / 1_000_000,
            targets: w.targets.iter().map(|t| t.as_str()).collect(),
            techniques: w.techniques.iter().copied().collect(),
            attacker_ips: w.attacker_ips.iter().cloned().collect(),
            principals: w.principals.iter().cloned().collect(),
            events: w.events,
            events_by_source: w.per_source.clone(),
            accounts_affected: w.accounts_affected,
            messages: w.messages.clone(),
        }
    }
}

/// The waves document.
#[derive(Debug, Serialize)]
pub struct WavesDoc {
    /// `breachline.waves/1`.
    pub schema: &'static str,
    /// Waves.
    pub waves: Vec<WaveJson>,
}

/// Builds the waves document.
pub fn waves_doc(a: &Analysis) -> WavesDoc {
    WavesDoc {
        schema: "breachline.waves/1",
        waves: a.waves.iter().map(WaveJson::from).collect(),
    }
}
