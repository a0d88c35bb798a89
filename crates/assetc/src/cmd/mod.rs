//! One module per command; each runs with the options `settings` gives and reports through
//! `ui`.

pub mod build;
pub mod dev;
pub mod explain;
pub mod maintain;
pub mod report;
pub mod serve;
