//! Renderers: one per output (terminal tables, CSV files, timeline exports, Markdown,
//! HTML, JSON). They read correlation results and never decide anything themselves.

pub mod table;
pub mod json;
pub mod csv;
