//! The glob dialect of every pattern option (`--include`, `--exclude`, `--entry-point`,
//! `--already-hashed`, `--ignore-reference`): gitignore-like, matched against logical paths.

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::BuildError;

/// Include and exclude patterns, gitignore-like: a pattern without `/` matches a name at
/// any depth (`*.scss`, `node_modules`), one with `/` matches from the input root.
#[derive(Debug)]
pub struct PathFilter {
    include: Option<GlobSet>,
    exclude: GlobSet,
}

impl PathFilter {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, BuildError> {
        let include = if include.is_empty() {
            None
        } else {
            Some(glob_set(include)?)
        };
        Ok(Self {
            include,
            exclude: glob_set(exclude)?,
        })
    }

    pub(crate) fn excludes(&self, logical: &str) -> bool {
        self.exclude.is_match(logical)
    }

    pub(crate) fn includes_file(&self, logical: &str) -> bool {
        !self.excludes(logical)
            && self
                .include
                .as_ref()
                .is_none_or(|set| set.is_match(logical))
    }
}

/// Builds a set of gitignore-like patterns (see [`PathFilter`]).
pub fn glob_set(patterns: &[String]) -> Result<GlobSet, BuildError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let anchored = pattern.trim_start_matches('/');
        let full = if pattern.contains('/') {
            anchored.to_owned()
        } else {
            format!("**/{pattern}")
        };
        let glob = globset::GlobBuilder::new(&full)
            .literal_separator(true)
            .build()
            .map_err(|e| BuildError::Glob {
                glob: pattern.clone(),
                message: e.kind().to_string(),
            })?;
        builder.add(glob);
        // `dir/**` also prunes the directory itself.
        if let Some(dir) = full.strip_suffix("/**") {
            builder.add(Glob::new(dir).map_err(|e| BuildError::Glob {
                glob: pattern.clone(),
                message: e.kind().to_string(),
            })?);
        }
    }
    builder.build().map_err(|e| BuildError::Glob {
        glob: patterns.join(", "),
        message: e.to_string(),
    })
}

/// [`glob_set`], or None for no patterns (so that matching nothing costs nothing).
pub fn optional_glob_set(patterns: &[String]) -> Result<Option<GlobSet>, BuildError> {
    if patterns.is_empty() {
        Ok(None)
    } else {
        glob_set(patterns).map(Some)
    }
}
