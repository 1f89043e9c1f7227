//! Renderers: one per output (terminal tables, CSV files, timeline exports, Markdown,
//! HTML, JSON). They read correlation results and never decide anything themselves.

pub mod table;
pub mod json;
pub mod csv;
pub mod timeline;
pub mod charts;
pub mod doc;
pub mod html;
pub mod md;
