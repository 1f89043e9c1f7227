//! Renderers: one per output (terminal tables, CSV files, timeline exports, Markdown,
//! HTML, JSON). They read correlation results and never decide anything themselves.

pub mod charts;
pub mod csv;
pub mod doc;
pub mod html;
pub mod json;
pub mod md;
pub mod plaso;
pub mod table;
pub mod timeline;
