//! breachline: incident forensics for breached applications. Ingests API-gateway,
//! push-provider and database-audit evidence into one event model, correlates it into
//! attack waves, and reports affected accounts and messages.

pub mod case;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod correlate;
pub mod error;
pub mod ingest;
pub mod model;
pub mod profile;
pub mod report;
pub mod roster;
pub mod sanitize;
pub mod schema;
pub mod simulate;
pub mod sql;
pub mod timeparse;
