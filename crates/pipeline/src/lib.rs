//! assetc's build: walk the input, find references, name files by content, write atomically.
//!
//! Three subsystems, one folder each: `scan` (finding and rewriting references in HTML, CSS,
//! JS and JSON; no IO), `build` (the phases of a build, from the walk to the staged tree) and
//! `output` (the build directory: atomic staging, its records, `clean` and `verify`).

pub mod build;
pub mod error;
pub mod output;
pub mod scan;

pub use build::logical_paths::pairs as logical_path_pairs;
pub use build::options::LogicalPaths;
pub use build::{build, build_with_progress, BuildOptions, BuildReport, Progress, Silent};
pub use error::{BuildError, Note, NoteKind, Warning, WarningKind};

// The paths these modules had before they were grouped into folders.
pub use build::{compress, entry_points, graph, walk};
pub use output::maintain;
pub use scan::{css, html, js, json_refs, text_ref};
/// The format dispatcher (`rewrite`, `Format`) and what it reports, at its former path.
pub mod references {
    pub use crate::scan::{rewrite, Edit, Format, FoundRef, RewriteError, Role};
}
