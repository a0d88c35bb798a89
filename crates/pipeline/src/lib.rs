//! assetc's build: walk the input, find references, name files by content, write atomically.

pub mod build;
pub mod compress;
pub mod css;
pub mod entry_points;
pub mod error;
pub mod graph;
pub mod html;
pub mod js;
pub mod json_refs;
pub mod maintain;
pub mod output;
pub mod references;
pub mod text_ref;
pub mod walk;

pub use build::{build, build_with_progress, BuildOptions, BuildReport, Progress, Silent};
pub use error::{BuildError, Warning, WarningKind};
