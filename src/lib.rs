//! breachline: incident forensics for breached applications. Ingests API-gateway,
//! push-provider and database-audit evidence into one event model, correlates it into
//! attack waves, and reports affected accounts and messages.

pub mod error;
pub mod ingest;
pub mod model;
pub mod sanitize;
pub mod sql;
pub mod timeparse;
