//! assetc's build: walk the input, find references, name files by content, write atomically.

pub mod error;
pub mod html;
pub mod text_ref;
pub mod walk;

pub use error::{BuildError, Warning, WarningKind};
