//! Command-line definition (clap derive). Doc comments are the help text. Validation into
//! typed settings happens in `config.rs`, not here.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Incident forensics for breached applications: API-gateway, push-provider and
/// database-audit evidence on one timeline of attack waves, with affected accounts and
/// messages.
///
/// Exit codes: 0 success; 1 fatal error (bad arguments, unwritable output, --strict
/// violation); 2 finished, but some evidence was rejected, unreadable or unrecognized.
#[derive(Debug, Parser)]
#[command(
    name = "breachline",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse evidence into a case file (Parquet or JSONL) and print the inventory.
    Ingest(IngestArgs),
    /// List supported evidence formats and how each is detected.
    Formats,
    /// One merged, sorted, filtered timeline across all sources.
    Timeline(TimelineArgs),
    /// Attack waves: start, end, targets, techniques, attacker addresses and principals.
    Waves(WavesArgs),
    /// Affected customers, bonus corrections, message verdicts and recipients, indicators,
    /// evidence (CSV).
    Affected(AffectedArgs),
    /// Incident summary report (Markdown, HTML, JSON) plus the files of `affected`.
    Report(ReportArgs),
    /// Write a realistic simulated incident (evidence, roster, truth.json).
    Simulate(SimulateArgs),
    /// Shell completions.
    Completions {
        /// Shell.
        shell: clap_complete::Shell,
    },
    /// The man page (roff) on stdout.
    Man,
}

/// Evidence inputs and parsing options shared by every analysis command.
#[derive(Debug, Args, Clone)]
pub struct EvidenceArgs {
    /// Evidence files or directories (recursive), compressed ok, `-` for stdin; or one case file
    /// written by `ingest` (.parquet / .jsonl).
    #[arg(required = true, value_name = "EVIDENCE")]
    pub evidence: Vec<String>,
    /// Force an evidence format for every input (see `breachline formats`).
    #[arg(long, value_name = "NAME")]
    pub input_format: Option<String>,
    /// Zone of servers that log local time without a zone (MariaDB, nginx or PostgreSQL
    /// formats without an offset): IANA name (Europe/Kyiv) or ±HH:MM. Times that are UTC by
    /// definition (MySQL Enterprise, Percona, SNS, FCM, OneSignal, RDS activity streams) stay UTC.
    /// An IANA zone also settles the abbreviations that zone prints (IST in Europe/Dublin is
    /// +01:00, not India's +05:30).
    #[arg(long, value_name = "ZONE")]
    pub assume_tz: Option<String>,
    /// PostgreSQL log_line_prefix of stderr logs, when it is not a common one.
    #[arg(long, value_name = "PREFIX")]
    pub pg_prefix: Option<String>,
    /// API Gateway access-log template of a stage (its `accessLogSettings.format`), for
    /// layouts no detector knows: e.g. '$context.identity.sourceIp,$context.requestTime,
    /// $context.httpMethod,$context.path,$context.status,$context.identity.userAgent'.
    /// Lines that fit it are read as API Gateway records; for a JSON template, the lines
    /// JSON cannot read (a value with an unescaped quote).
    #[arg(long, value_name = "TEMPLATE")]
    pub apigw_format: Option<String>,
    /// Address range of a proxy in front of the gateways besides private ones (a CDN,
    /// a public load balancer): ADDRESS[/BITS], repeatable. A gateway record whose peer
    /// is a proxy is attributed to the rightmost X-Forwarded-For address that is not.
    #[arg(long, value_name = "CIDR")]
    pub trusted_proxy: Vec<String>,
    /// Correct a known clock skew: FILE_OR_FORMAT=DURATION (e.g. pg-stderr=-37s,
    /// mariadb-audit=1h30m, db.log=-00:02:13). Repeatable.
    #[arg(long, value_name = "KEY=DURATION")]
    pub clock_skew: Vec<String>,
    /// Follow symbolic links in directory walks (a link named on the command line is
    /// always read). A link to a directory already walked, such as one back up the tree,
    /// or to a file already listed is listed and not read again.
    #[arg(long, short = 'L')]
    pub follow: bool,
    /// Make the first rejected record fatal.
    #[arg(long)]
    pub strict: bool,
    /// Write every rejected record (file, line, reason) to this CSV.
    #[arg(long, value_name = "FILE")]
    pub reject_log: Option<PathBuf>,
    /// No progress bar and no per-file warnings on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Site profile (TOML): routes, tables, principals, known-good sources, thresholds.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Customer roster CSV (account ids, creation times, devices, contacts).
    #[arg(long, value_name = "FILE")]
    pub roster: Option<PathBuf>,
    /// Schema dump of the database (`pg_dump --schema-only`, `mysqldump --no-data
    /// --routines`): routines' parameters and tables' columns, for calls by position and
    /// inserts without a column list. Repeatable
    #[arg(long, value_name = "FILE")]
    pub schema: Vec<PathBuf>,
    /// Largest quiet gap inside one attack wave.
    #[arg(long, value_name = "DURATION", default_value = "30m")]
    pub wave_gap: String,
}

/// `ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Evidence.
    #[command(flatten)]
    pub ev: EvidenceArgs,
    /// Case file to write: `.parquet` (typed columns) or `.jsonl`.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Force an evidence format (same as --input-format).
    #[arg(long, value_name = "NAME")]
    pub format: Option<String>,
}

/// Timeline output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimelineFormat {
    /// Terminal table.
    Table,
    /// CSV with every field.
    Csv,
    /// JSON Lines with every field.
    Jsonl,
    /// Timesketch import (CSV or JSONL by the -o extension; JSONL on stdout).
    Timesketch,
    /// Elastic Common Schema NDJSON.
    Ecs,
    /// Plaso's legacy l2tcsv (17 columns; date and time in the --tz zone, UTC by default).
    L2tcsv,
    /// Plaso's dynamic CSV, psort's default columns.
    PlasoDynamic,
}

/// `timeline`.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// Evidence.
    #[command(flatten)]
    pub ev: EvidenceArgs,
    /// Output format [default: by the -o extension (.csv, .jsonl/.ndjson), else table].
    #[arg(long, value_enum)]
    pub format: Option<TimelineFormat>,
    /// Write here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only events at or after this time (RFC 3339; zone-less is UTC).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// Only events of this wave.
    #[arg(long)]
    pub wave: Option<u32>,
    /// Only events from this address.
    #[arg(long)]
    pub ip: Option<String>,
    /// Only events concerning this account.
    #[arg(long)]
    pub account: Option<String>,
    /// Only events of this principal (staff, API or DB user).
    #[arg(long)]
    pub principal: Option<String>,
    /// Only events of this source (gateway, db, push).
    #[arg(long)]
    pub source: Option<String>,
    /// Only attacker-attributed events.
    #[arg(long)]
    pub attack_only: bool,
    /// Display zone (IANA or ±HH:MM); default UTC with `Z`.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Most rows in table output (0 = all).
    #[arg(long, default_value = "0")]
    pub limit: usize,
}

/// Waves output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WavesFormat {
    /// Terminal table.
    Table,
    /// `breachline.waves/1` JSON.
    Json,
}

/// `waves`.
#[derive(Debug, Args)]
pub struct WavesArgs {
    /// Evidence.
    #[command(flatten)]
    pub ev: EvidenceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: WavesFormat,
}

/// `affected`.
#[derive(Debug, Args)]
pub struct AffectedArgs {
    /// Evidence.
    #[command(flatten)]
    pub ev: EvidenceArgs,
    /// Directory for the CSV files.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Mask names, emails and phones (o***@example.com, +380*****12).
    #[arg(long)]
    pub mask_pii: bool,
    /// Write a UTF-8 BOM so Excel opens the files correctly.
    #[arg(long)]
    pub excel: bool,
}

/// `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Evidence.
    #[command(flatten)]
    pub ev: EvidenceArgs,
    /// Directory for report.md, report.html, report.json and the affected files.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Report title.
    #[arg(long, default_value = "Incident summary")]
    pub title: String,
    /// Mask names, emails and phones in the affected files.
    #[arg(long)]
    pub mask_pii: bool,
    /// Write a UTF-8 BOM on CSV files.
    #[arg(long)]
    pub excel: bool,
    /// Put this generation time in the reports (otherwise none, for byte-identical output).
    #[arg(long, value_name = "RFC3339")]
    pub generated_at: Option<String>,
}

/// `simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Seed.
    #[arg(long, default_value = "7")]
    pub seed: u64,
    /// Background volume multiplier (1 ≈ 10 MB of raw evidence; grows linearly).
    #[arg(long, default_value = "1")]
    pub scale: f64,
    /// Gateway format(s), comma-separated, or `all`.
    #[arg(long, default_value = "apigw-json")]
    pub gateway: String,
    /// DB format(s), comma-separated, or `all`.
    #[arg(long, default_value = "pg-stderr")]
    pub db: String,
    /// Push format(s), comma-separated, or `all`.
    #[arg(long, default_value = "fcm-bigquery-json")]
    pub push: String,
    /// First day (UTC date).
    #[arg(long, default_value = "2025-11-01")]
    pub start: String,
    /// DB server clock skew.
    #[arg(long, default_value = "37s", allow_hyphen_values = true)]
    pub db_skew: String,
    /// The push worker's clock skew: the times of the backend's send logs (fcm-v1-log,
    /// expo-push-log); the providers' own exports keep the provider's clock.
    #[arg(long, default_value = "0s", allow_hyphen_values = true)]
    pub push_skew: String,
    /// The clock skew of the second gateway layer: every gateway format after the first
    /// in `--gateway` is written by a host whose clock is off by this much (two layers
    /// logging the same requests, e.g. API Gateway in front of nginx).
    #[arg(long, default_value = "0s", allow_hyphen_values = true)]
    pub gateway_skew: String,
    /// The servers' local zone (IANA name): the DB's `log_timezone`, MariaDB's zone-less
    /// times, and the offset gateways print with local time.
    #[arg(long, value_name = "ZONE", default_value = "Europe/Kyiv")]
    pub server_tz: String,
    /// The application does not tag SQL with sqlcommenter request ids.
    #[arg(long)]
    pub untagged_sql: bool,
    /// Name routes, tables and columns as another application would (members and
    /// rewards, `/mobile/v3/…`, `/backoffice/…`, an `app` schema).
    #[arg(long)]
    pub other_names: bool,
    /// Name routes, tables and columns from a vocabulary drawn from this seed: the API
    /// prefix, staff prefix, login route, bonus, customer, device and push words, schema,
    /// tables and account and balance columns, each one of the names real apps use.
    #[arg(long, value_name = "SEED", conflicts_with = "other_names")]
    pub random_names: Option<u64>,
    /// Write PostgreSQL stderr and MariaDB audit records through syslog (rsyslog file
    /// lines; PostgreSQL's chunks, MariaDB's records without their own time). By seed:
    /// traditional or RFC 3339 headers, and PostgreSQL's prefix with or without its
    /// time and process id (`%q%u@%d `, as the documentation advises for syslog).
    #[arg(long)]
    pub db_via_syslog: bool,
    /// Spread wave 1's credential stuffing over this many addresses (a proxy pool), each
    /// trying a few logins; 0 keeps three addresses.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=5000))]
    pub proxy_pool: u32,
    /// When the two waves begin on the attack day, UTC (`HH:MM[:SS],HH:MM[:SS]`; default
    /// 03:05:17,09:41:03): a wave at the day's peak has the most customers around it.
    #[arg(long, value_name = "TIMES")]
    pub attack_at: Option<String>,
    /// The morning after the attack, staff refund the drained accounts from the office
    /// and a script credits goodwill points to a few hundred customers: legitimate bonus
    /// changes by the hundred, after the incident.
    #[arg(long)]
    pub compensation: bool,
    /// Add the internet's background noise to every day: vulnerability scanners, a bot
    /// spraying passwords that never gets in, an uptime monitor, a menu scraper. None of
    /// it is the incident.
    #[arg(long)]
    pub noise: bool,
    /// Give this many customers one of wave 1's addresses as their own, all days: a
    /// carrier's CGNAT exit or a residential proxy the attacker's traffic also leaves
    /// through. Their activity is theirs, not the attacker's.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=500))]
    pub shared_address: u32,
    /// Wave 1's technique: `stuffing` (credential stuffing, then the compromised accounts
    /// drained into the attacker's) or `idor` (signed in as the attacker's own account, it
    /// reads and drains other customers' points through routes that never check whose
    /// they are) or `hijack` (customers' stolen session tokens replayed from two
    /// addresses under the app's own agent: no sign-in at all).
    #[arg(long, value_name = "TECHNIQUE", default_value = "stuffing",
          value_parser = ["stuffing", "idor", "hijack"])]
    pub wave1: String,
    /// Wave 2's technique: `staff` (a stolen staff credential enumerates and exports the
    /// customers) or `injection` (SQL injection through the public menu search dumps the
    /// customer and staff tables; the staff credential is then used to send) or `direct`
    /// (the analytics job's leaked database password, used from the attacker's own host
    /// to copy the customer and staff tables out; the staff credential then sends).
    #[arg(long, value_name = "TECHNIQUE", default_value = "staff",
          value_parser = ["staff", "injection", "direct"])]
    pub wave2: String,
}
