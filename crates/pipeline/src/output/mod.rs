//! The build directory: the atomic staging of a new tree (`staging`), the records that say
//! what it holds (`records`, with each generation's reference record `refs`), keeping it
//! healthy (`maintain`: `clean`, `verify`), telling what changed between generations and
//! why (`explain`), and the cache that spares a rebuild parsing unchanged text
//! (`scan_cache`).

pub mod explain;
pub mod maintain;
pub mod records;
pub mod refs;
pub mod scan_cache;
pub mod staging;

pub use staging::{lock_and_tidy, Staging};
