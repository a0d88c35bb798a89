//! The build directory: the atomic staging of a new tree (`staging`), the records that say
//! what it holds (`records`), and keeping it healthy (`maintain`: `clean`, `verify`).

pub mod maintain;
pub mod records;
pub mod staging;

pub use staging::{tidy, Staging};
