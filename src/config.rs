//! Validated settings built from command-line arguments before any work starts: zones,
//! durations, skews, the site profile and the roster path.

use crate::cli::EvidenceArgs;
use crate::error::Error;
use crate::ingest::pipeline::IngestOpts;
use crate::ingest::ParseOpts;
use crate::profile::Profile;
use crate::timeparse::{parse_duration_us, AssumeTz};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Settings shared by analysis commands.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Evidence paths.
    pub evidence: Vec<String>,
    /// Ingestion options.
    pub ingest: IngestOpts,
    /// Site profile.
    pub profile: Profile,
    /// Roster CSV.
    pub roster: Option<PathBuf>,
    /// Definitions of the `--schema` dumps.
    pub schema: Vec<crate::schema::Given>,
    /// Reject log path.
    pub reject_log: Option<PathBuf>,
    /// Show a progress bar.
    pub progress: bool,
    /// Print warnings.
    pub quiet: bool,
    /// Wave gap, µs.
    pub wave_gap: i64,
}

impl Settings {
    /// Validates evidence arguments.
    pub fn from_args(a: &EvidenceArgs) -> Result<Settings, Error> {
        let bad = |flag: &'static str, message: String| Error::BadArg { flag, message };
        let assume_tz = match &a.assume_tz {
            Some(z) => AssumeTz::parse(z)
                .ok_or_else(|| bad("--assume-tz", format!("unknown zone {z:?}")))?,
            None => AssumeTz::default(),
        };
        let mut clock_skew = Vec::new();
        for s in &a.clock_skew {
            let (k, d) = s.rsplit_once('=').ok_or_else(|| {
                bad(
                    "--clock-skew",
                    format!("{s:?} is not FILE_OR_FORMAT=DURATION"),
                )
            })?;
            let us = parse_duration_us(d)
                .ok_or_else(|| bad("--clock-skew", format!("bad duration {d:?}")))?;
            clock_skew.push((k.to_string(), us));
        }
        let wave_gap = parse_duration_us(&a.wave_gap)
            .filter(|g| *g > 0)
            .ok_or_else(|| bad("--wave-gap", format!("bad duration {:?}", a.wave_gap)))?;
        let profile = match &a.profile {
            Some(p) => Profile::load(p)?,
            None => Profile::default(),
        };
        let mut vocab = crate::sql::Vocab::default();
        profile.extend_vocab(&mut vocab);
        let mut schema = Vec::new();
        for p in &a.schema {
            schema.extend(crate::schema::load(p, &vocab)?);
        }
        if let Some(f) = &a.input_format {
            if crate::ingest::by_name(f).is_none() {
                return Err(Error::NoSuchFormat(f.clone()));
            }
        }
        let apigw_template = match &a.apigw_format {
            Some(t) => Some(std::sync::Arc::new(
                crate::ingest::apigw_template::Template::compile(t)
                    .map_err(|m| bad("--apigw-format", m))?,
            )),
            None => None,
        };
        let trusted_proxies = a
            .trusted_proxy
            .iter()
            .map(|c| crate::ingest::client::Cidr::parse(c).map_err(|m| bad("--trusted-proxy", m)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Settings {
            evidence: a.evidence.clone(),
            ingest: IngestOpts {
                format: a.input_format.clone(),
                strict: a.strict,
                parse: ParseOpts {
                    assume_tz,
                    assume_tz_given: a.assume_tz.is_some(),
                    pg_prefix: a.pg_prefix.clone(),
                    apigw_template,
                    trusted_proxies,
                    vocab,
                },
                clock_skew,
                follow: a.follow,
            },
            profile,
            roster: a.roster.clone(),
            schema,
            reject_log: a.reject_log.clone(),
            progress: !a.quiet && !a.no_progress && std::io::stderr().is_terminal(),
            quiet: a.quiet,
            wave_gap,
        })
    }
}
