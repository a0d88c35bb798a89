//! Resolve: every reference of every text file found and resolved to a source file (by
//! index), or reported with its `file:line:column` when it names nothing in the input.

use std::collections::{BTreeSet, HashMap};

use assetc_core::url_ref::{classify, LocalRef, Reference};
use assetc_core::LogicalPath;
use globset::GlobSet;

use crate::build::load::{Content, Node};
use crate::error::{Warning, WarningKind};
use crate::scan::html::decode_char_refs;
use crate::scan::{rewrite, Edit, Role};

/// What one file's scan found: its local targets, where each reference to one of them is
/// (for the reference record, `output::refs`), its warnings, and whether it parsed (a file
/// that did not is copied as it is).
pub(crate) struct Scan {
    pub targets: BTreeSet<usize>,
    /// `(line, column, target)` of every reference that resolved, in document order.
    pub positions: Vec<(u32, u32, usize)>,
    pub warnings: Vec<Warning>,
    pub rewritable: bool,
}

/// Finds a text node's local targets; `ignored` are missing targets not to warn about.
pub(crate) fn scan(node: &Node, resolver: &Resolver, ignored: Option<&GlobSet>) -> Scan {
    let mut targets = BTreeSet::new();
    let mut positions = Vec::new();
    let mut warnings = Vec::new();
    let Content::Text(bytes) = &node.content else {
        return Scan {
            targets,
            positions,
            warnings,
            rewritable: true,
        };
    };
    let from = &node.source.logical;
    let result = rewrite(node.format, bytes, &node.charset, |r| {
        match resolver.resolve(from, &r.value, r.role) {
            Resolution::Target(t) => {
                targets.insert(t);
                positions.push((r.line, r.column, t));
            }
            Resolution::Untouchable => {}
            Resolution::Problem(WarningKind::BrokenReference { resolved, .. })
                if ignored.is_some_and(|set| set.is_match(&resolved)) => {}
            Resolution::Problem(kind) => warnings.push(Warning {
                file: from.to_string(),
                line: Some(r.line),
                column: Some(r.column),
                kind,
            }),
        }
        Edit::default()
    });
    match result {
        Ok(_) => Scan {
            targets,
            positions,
            warnings,
            rewritable: true,
        },
        Err(error) => {
            warnings.push(Warning {
                file: from.to_string(),
                line: None,
                column: None,
                kind: WarningKind::NotRewritten {
                    message: error.to_string(),
                },
            });
            Scan {
                targets: BTreeSet::new(),
                positions: Vec::new(),
                warnings,
                rewritable: false,
            }
        }
    }
}

/// Resolves references as written to nodes.
pub(crate) struct Resolver {
    index: HashMap<LogicalPath, usize>,
    paths: Vec<LogicalPath>,
}

pub(crate) enum Resolution {
    Untouchable,
    Target(usize),
    Problem(WarningKind),
}

impl Resolver {
    pub fn new(nodes: &[Node]) -> Self {
        let paths: Vec<LogicalPath> = nodes.iter().map(|n| n.source.logical.clone()).collect();
        let index = paths
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), i))
            .collect();
        Self { index, paths }
    }

    /// The logical path of node `target`.
    pub fn logical(&self, target: usize) -> &LogicalPath {
        &self.paths[target]
    }

    pub fn resolve(&self, from: &LogicalPath, raw: &str, role: Role) -> Resolution {
        self.resolve_local(from, raw, role).0
    }

    /// Resolves a reference, and returns the split of it that resolved (a `%23` may have
    /// been read as a fragment).
    pub fn resolve_local<'r>(
        &self,
        from: &LogicalPath,
        raw: &'r str,
        role: Role,
    ) -> (Resolution, Option<LocalRef<'r>>) {
        let Reference::Local(local) = classify(raw) else {
            return (Resolution::Untouchable, None);
        };
        let first = self.resolve_path(from, &local, role);
        if let Resolution::Problem(WarningKind::BrokenReference { .. }) = first {
            if let Some(split) = local.with_encoded_fragment() {
                if let Resolution::Target(i) = self.resolve_path(from, &split, role) {
                    return (Resolution::Target(i), Some(split));
                }
            }
        }
        (first, Some(local))
    }

    fn resolve_path(&self, from: &LogicalPath, local: &LocalRef<'_>, role: Role) -> Resolution {
        let reference = local.trimmed.to_owned();
        let path = decode_char_refs(local.path);
        let decoded = match (LocalRef {
            path: &path,
            ..local.clone()
        })
        .decoded_path()
        {
            Ok(d) => d,
            Err(_) => return Resolution::Problem(WarningKind::Undecodable { reference }),
        };
        let resolved = match from.resolve(&decoded) {
            Ok(p) => p,
            Err(_) => return Resolution::Problem(WarningKind::OutsideRoot { reference }),
        };
        if let Some(&i) = self.index.get(&resolved) {
            return Resolution::Target(i);
        }
        if role == Role::Navigation && !decoded.ends_with('/') {
            // Clean URLs: `/about` names `about.html` or `about/index.html`.
            for candidate in [format!("{resolved}.html"), format!("{resolved}/index.html")] {
                if let Some(&i) = LogicalPath::new(candidate)
                    .ok()
                    .and_then(|p| self.index.get(&p))
                {
                    return Resolution::Target(i);
                }
            }
        }
        Resolution::Problem(WarningKind::BrokenReference {
            reference,
            resolved: resolved.to_string(),
        })
    }
}
