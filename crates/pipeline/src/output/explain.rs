//! Why names changed between two generations of a build, from their records alone (each
//! one's manifest and reference record; no sources): per file, what changed (its own
//! bytes, a file it references, a member of its reference cycle, a file it referenced that
//! is gone, or only the build's settings), the root causes those chains end in, and, for
//! `--changed`, every renamed file grouped by root cause with the bytes a returning visitor
//! downloads because of it. No IO: `Records::snapshot` reads what this compares.

use std::collections::{BTreeMap, BTreeSet};

use assetc_core::{Entry, Manifest};
use serde::Serialize;

use crate::graph::components_in_dependency_order;
use crate::output::refs::RefsRecord;

/// The schema version of `assetc explain --json` (ARCHITECTURE.md, "`assetc explain --json`").
pub const EXPLAIN_VERSION: u32 = 1;

/// One kept generation's records.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub id: String,
    pub manifest: Manifest,
    /// None for a generation built before assetc kept reference records.
    pub refs: Option<RefsRecord>,
}

/// What happened to a logical path between the two generations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Only in the newer generation.
    Added,
    /// Only in the older generation.
    Removed,
    /// Served under a new path (a new fingerprint): a cache miss for every visitor.
    Renamed,
    /// The same path with new bytes (an entry point, revalidated).
    Changed,
    /// The same path and bytes.
    Unchanged,
}

/// A file as one generation serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Served {
    pub path: String,
    pub sha256: String,
    /// Bytes of the identity file.
    pub size: u64,
    /// The smallest representation: `identity`, `br`, `zstd` or `gzip`.
    pub best_coding: String,
    /// Its size: what a browser that accepts every coding downloads.
    pub best_size: u64,
}

/// Where a reference is written in its source file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct At {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// One reason a file's served bytes (and so, unless it is an entry point, its name) changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Its own source bytes changed. `recorded` is false when a generation has no reference
    /// record: then the sizes and digests are the served files', and the reason is
    /// inferred (new bytes, and nothing else explains them).
    Bytes {
        old_size: u64,
        new_size: u64,
        old_sha256: String,
        new_sha256: String,
        recorded: bool,
    },
    /// It references `target`, which was renamed or added, at `at` (empty when unrecorded).
    Reference { target: String, at: Vec<At> },
    /// It is a member of a reference cycle, named as one unit (every member's fingerprint
    /// derives from the whole cycle), and the members in `changed` changed for reasons of
    /// their own.
    Cycle {
        members: Vec<String>,
        changed: Vec<String>,
    },
    /// It referenced `target` (at `at` in the older source), which the newer generation no
    /// longer has: the reference is now left as written.
    Dropped { target: String, at: Vec<At> },
    /// Its source and everything it references are the same: the build's settings changed
    /// (the base URL, `--sri`, which files are entry points).
    Settings,
}

/// A file in the comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    pub status: Status,
    pub old: Option<Served>,
    pub new: Option<Served>,
    /// Why it changed: empty unless `renamed` or `changed`.
    pub reasons: Vec<Reason>,
}

/// Where chains of reasons end.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RootKind {
    /// A file's own bytes changed.
    Bytes,
    /// A file was added.
    Added,
    /// A file was removed (references to it are left as written).
    Removed,
    /// The build's settings changed.
    Settings,
}

/// A root cause: what changed in the input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Root {
    pub kind: RootKind,
    /// The file; None for `settings`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A root cause with its sizes (source bytes, old and new) where it has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootCause {
    #[serde(flatten)]
    pub root: Root,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_size: Option<u64>,
}

/// The two generations compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pair {
    pub new: String,
    pub old: String,
}

/// Every file of two generations, compared, with the root causes of each change.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub generations: Pair,
    /// Both generations have reference records: positions and source digests are known.
    pub recorded: bool,
    /// Every logical path of either generation.
    pub files: BTreeMap<String, FileChange>,
    /// The root causes of every renamed or changed file (and an added file's own).
    roots: BTreeMap<String, BTreeSet<Root>>,
}

/// `assetc explain PATH`: one file, the files its chains of reasons pass through, and the
/// root causes they end in.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub version: u32,
    pub generations: Pair,
    pub recorded: bool,
    pub path: String,
    pub status: Status,
    /// The file and every file its reasons lead to, by logical path.
    pub files: BTreeMap<String, FileChange>,
    pub root_causes: Vec<RootCause>,
}

/// `assetc explain --changed`: every renamed file, grouped by root cause.
#[derive(Debug, Clone, Serialize)]
pub struct Changes {
    pub version: u32,
    pub generations: Pair,
    pub recorded: bool,
    /// Every renamed file, sorted.
    pub renamed: Vec<String>,
    /// The best-variant bytes of every renamed file, each counted once.
    pub bytes: u64,
    /// Files that kept their path with new bytes (pages a returning visitor revalidates and
    /// downloads again), sorted.
    pub revalidated: Vec<String>,
    pub revalidated_bytes: u64,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// By root cause, the most bytes first. A file with several root causes is in each
    /// of their groups.
    pub groups: Vec<Group>,
}

/// The files one root cause changed.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub cause: RootCause,
    pub renamed: Vec<Download>,
    /// The best-variant bytes of `renamed`: what a returning visitor downloads anew.
    pub bytes: u64,
    pub revalidated: Vec<Download>,
    pub revalidated_bytes: u64,
}

/// A file a returning visitor downloads again, as the newer generation serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Download {
    /// The logical path.
    pub path: String,
    /// The served path.
    pub served: String,
    /// Its best representation (`identity`, `br`, `zstd`, `gzip`) and that one's size.
    pub coding: String,
    pub size: u64,
}

/// The smallest representation of an entry: its coding (`identity` when no variant is
/// smaller) and size.
pub fn best(entry: &Entry) -> (&str, u64) {
    let mut best = ("identity", entry.size);
    for coding in ["br", "zstd", "gzip"] {
        if let Some(v) = entry.variants.get(coding) {
            if v.size < best.1 {
                best = (coding, v.size);
            }
        }
    }
    best
}

fn served(entry: &Entry) -> Served {
    let (coding, size) = best(entry);
    Served {
        path: entry.path.clone(),
        sha256: entry.sha256.clone(),
        size: entry.size,
        best_coding: coding.to_owned(),
        best_size: size,
    }
}

/// The positions in `refs` of `file`'s references to `target`.
fn positions(refs: Option<&RefsRecord>, file: &str, target: &str) -> Vec<At> {
    refs.and_then(|r| r.files.get(file))
        .map(|source| {
            source
                .references
                .iter()
                .filter(|p| p.target == target)
                .map(|p| At {
                    file: file.to_owned(),
                    line: p.line,
                    column: p.column,
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Comparison {
    /// Compares `new` with `old`.
    pub fn new(new: &Snapshot, old: &Snapshot) -> Self {
        let (nm, om) = (&new.manifest.entries, &old.manifest.entries);
        let paths: Vec<&str> = nm
            .keys()
            .chain(om.keys())
            .map(String::as_str)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let index: BTreeMap<&str, usize> = paths.iter().enumerate().map(|(i, p)| (*p, i)).collect();
        let status: Vec<Status> = paths
            .iter()
            .map(|p| match (nm.get(*p), om.get(*p)) {
                (Some(_), None) => Status::Added,
                (None, _) => Status::Removed,
                (Some(n), Some(o)) if n.path != o.path => Status::Renamed,
                (Some(n), Some(o)) if n.sha256 != o.sha256 => Status::Changed,
                _ => Status::Unchanged,
            })
            .collect();

        // The newer generation's naming graph: references to fingerprinted files (those to
        // entry points never affect names), whose cycles are named as one unit.
        let naming: Vec<Vec<usize>> = paths
            .iter()
            .map(|p| {
                nm.get(*p)
                    .map(|e| {
                        e.references
                            .iter()
                            .filter(|t| nm.get(*t).is_some_and(|t| t.immutable))
                            .filter_map(|t| index.get(t.as_str()).copied())
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect();
        let mut cycle_of: Vec<Option<usize>> = vec![None; paths.len()];
        let cycles: Vec<Vec<usize>> = components_in_dependency_order(&naming)
            .into_iter()
            .filter(|c| c.len() > 1)
            .collect();
        for (c, members) in cycles.iter().enumerate() {
            for &m in members {
                cycle_of[m] = Some(c);
            }
        }

        let (new_refs, old_refs) = (new.refs.as_ref(), old.refs.as_ref());
        // Pass 1: every reason but the cycle's, and whether the file's own change is known.
        let mut reasons: Vec<Vec<Reason>> = vec![Vec::new(); paths.len()];
        let mut own_known = vec![false; paths.len()];
        for (i, path) in paths.iter().enumerate() {
            if !matches!(status[i], Status::Renamed | Status::Changed) {
                continue;
            }
            let (n, o) = (&nm[*path], &om[*path]);
            let sources = new_refs
                .and_then(|r| r.files.get(*path))
                .zip(old_refs.and_then(|r| r.files.get(*path)));
            if let Some((ns, os)) = sources {
                own_known[i] = true;
                if ns.sha256 != os.sha256 {
                    reasons[i].push(Reason::Bytes {
                        old_size: os.size,
                        new_size: ns.size,
                        old_sha256: os.sha256.clone(),
                        new_sha256: ns.sha256.clone(),
                        recorded: true,
                    });
                }
            }
            for target in &n.references {
                let Some(&t) = index.get(target.as_str()) else {
                    continue;
                };
                let same_cycle = cycle_of[i].is_some() && cycle_of[i] == cycle_of[t];
                if t != i && !same_cycle && matches!(status[t], Status::Renamed | Status::Added) {
                    reasons[i].push(Reason::Reference {
                        target: target.clone(),
                        at: positions(new_refs, path, target),
                    });
                }
            }
            for target in &o.references {
                if index
                    .get(target.as_str())
                    .is_some_and(|&t| status[t] == Status::Removed)
                {
                    reasons[i].push(Reason::Dropped {
                        target: target.clone(),
                        at: positions(old_refs, path, target),
                    });
                }
            }
        }
        // Pass 2: cycles, then what is left unexplained.
        let changed_alone: Vec<bool> = reasons.iter().map(|r| !r.is_empty()).collect();
        for (i, path) in paths.iter().enumerate() {
            if !matches!(status[i], Status::Renamed | Status::Changed) {
                continue;
            }
            if let Some(c) = cycle_of[i] {
                let changed: Vec<String> = cycles[c]
                    .iter()
                    .filter(|&&m| m != i && changed_alone[m])
                    .map(|&m| paths[m].to_owned())
                    .collect();
                if !changed.is_empty() {
                    reasons[i].push(Reason::Cycle {
                        members: cycles[c].iter().map(|&m| paths[m].to_owned()).collect(),
                        changed,
                    });
                }
            }
            if reasons[i].is_empty() {
                let (n, o) = (&nm[*path], &om[*path]);
                reasons[i].push(if own_known[i] {
                    Reason::Settings
                } else {
                    Reason::Bytes {
                        old_size: o.size,
                        new_size: n.size,
                        old_sha256: o.sha256.clone(),
                        new_sha256: n.sha256.clone(),
                        recorded: false,
                    }
                });
            }
        }

        // Root causes: over the graph of reasons (its cycles only through `Cycle`, whose
        // members then share their roots), dependencies first.
        let edges: Vec<Vec<usize>> = reasons
            .iter()
            .map(|rs| {
                rs.iter()
                    .flat_map(|r| match r {
                        Reason::Reference { target, .. } => vec![index[target.as_str()]],
                        Reason::Cycle { changed, .. } => {
                            changed.iter().map(|m| index[m.as_str()]).collect()
                        }
                        _ => Vec::new(),
                    })
                    .collect()
            })
            .collect();
        let direct: Vec<BTreeSet<Root>> = (0..paths.len())
            .map(|i| {
                let file = |kind| Root {
                    kind,
                    path: Some(paths[i].to_owned()),
                };
                let mut set = BTreeSet::new();
                if status[i] == Status::Added {
                    set.insert(file(RootKind::Added));
                }
                for r in &reasons[i] {
                    match r {
                        Reason::Bytes { .. } => {
                            set.insert(file(RootKind::Bytes));
                        }
                        Reason::Dropped { target, .. } => {
                            set.insert(Root {
                                kind: RootKind::Removed,
                                path: Some(target.clone()),
                            });
                        }
                        Reason::Settings => {
                            set.insert(Root {
                                kind: RootKind::Settings,
                                path: None,
                            });
                        }
                        Reason::Reference { .. } | Reason::Cycle { .. } => {}
                    }
                }
                set
            })
            .collect();
        let components = components_in_dependency_order(&edges);
        let mut component_of = vec![0; paths.len()];
        for (c, members) in components.iter().enumerate() {
            for &m in members {
                component_of[m] = c;
            }
        }
        let mut component_roots: Vec<BTreeSet<Root>> = Vec::with_capacity(components.len());
        for (c, members) in components.iter().enumerate() {
            let mut set = BTreeSet::new();
            for &m in members {
                set.extend(direct[m].iter().cloned());
                for &d in &edges[m] {
                    if component_of[d] != c {
                        set.extend(component_roots[component_of[d]].iter().cloned());
                    }
                }
            }
            component_roots.push(set);
        }

        let mut files = BTreeMap::new();
        let mut roots = BTreeMap::new();
        for (i, path) in paths.iter().enumerate() {
            let set = &component_roots[component_of[i]];
            if !set.is_empty() {
                roots.insert((*path).to_owned(), set.clone());
            }
            files.insert(
                (*path).to_owned(),
                FileChange {
                    status: status[i],
                    old: om.get(*path).map(served),
                    new: nm.get(*path).map(served),
                    reasons: std::mem::take(&mut reasons[i]),
                },
            );
        }
        Self {
            generations: Pair {
                new: new.id.clone(),
                old: old.id.clone(),
            },
            recorded: new_refs.is_some() && old_refs.is_some(),
            files,
            roots,
        }
    }

    /// The root causes of `path`'s change, sorted; empty when it did not change.
    pub fn roots(&self, path: &str) -> impl Iterator<Item = &Root> {
        self.roots.get(path).into_iter().flatten()
    }

    /// A root with its sizes: a `bytes` root's own reason says them.
    pub fn cause(&self, root: &Root) -> RootCause {
        let sizes = match root.kind {
            RootKind::Bytes => root
                .path
                .as_ref()
                .and_then(|p| self.files.get(p))
                .and_then(|f| {
                    f.reasons.iter().find_map(|r| match r {
                        Reason::Bytes {
                            old_size, new_size, ..
                        } => Some((*old_size, *new_size)),
                        _ => None,
                    })
                }),
            RootKind::Added => root
                .path
                .as_ref()
                .and_then(|p| self.files.get(p)?.new.as_ref())
                .map(|n| (0, n.size)),
            RootKind::Removed => root
                .path
                .as_ref()
                .and_then(|p| self.files.get(p)?.old.as_ref())
                .map(|o| (o.size, 0)),
            RootKind::Settings => None,
        };
        RootCause {
            root: root.clone(),
            old_size: sizes.map(|s| s.0),
            new_size: sizes.map(|s| s.1),
        }
    }

    /// Why `path` changed, or None when neither generation has it.
    pub fn explain(&self, path: &str) -> Option<Explanation> {
        let file = self.files.get(path)?;
        let mut chain = BTreeMap::new();
        let mut todo = vec![path.to_owned()];
        while let Some(p) = todo.pop() {
            if chain.contains_key(&p) {
                continue;
            }
            let Some(f) = self.files.get(&p) else {
                continue;
            };
            for r in &f.reasons {
                match r {
                    Reason::Reference { target, .. } => todo.push(target.clone()),
                    Reason::Cycle { changed, .. } => todo.extend(changed.iter().cloned()),
                    Reason::Dropped { target, .. } => todo.push(target.clone()),
                    Reason::Bytes { .. } | Reason::Settings => {}
                }
            }
            chain.insert(p, f.clone());
        }
        Some(Explanation {
            version: EXPLAIN_VERSION,
            generations: self.generations.clone(),
            recorded: self.recorded,
            path: path.to_owned(),
            status: file.status,
            files: chain,
            root_causes: self.roots(path).map(|r| self.cause(r)).collect(),
        })
    }

    /// Every renamed file grouped by root cause, with the bytes each costs a returning
    /// visitor (the renamed files' best variants).
    pub fn changes(&self) -> Changes {
        let best = |p: &str| self.files[p].new.as_ref().map_or(0, |n| n.best_size);
        let download = |p: &str| {
            let n = self.files[p]
                .new
                .as_ref()
                .expect("a renamed or changed file is new");
            Download {
                path: p.to_owned(),
                served: n.path.clone(),
                coding: n.best_coding.clone(),
                size: n.best_size,
            }
        };
        let of = |status| -> Vec<String> {
            self.files
                .iter()
                .filter(|(_, f)| f.status == status)
                .map(|(p, _)| p.clone())
                .collect()
        };
        let renamed = of(Status::Renamed);
        let revalidated = of(Status::Changed);
        let mut groups: BTreeMap<&Root, Group> = BTreeMap::new();
        for (list, is_renamed) in [(&renamed, true), (&revalidated, false)] {
            for path in list {
                for root in self.roots(path) {
                    let group = groups.entry(root).or_insert_with(|| Group {
                        cause: self.cause(root),
                        renamed: Vec::new(),
                        bytes: 0,
                        revalidated: Vec::new(),
                        revalidated_bytes: 0,
                    });
                    if is_renamed {
                        group.renamed.push(download(path));
                        group.bytes += best(path);
                    } else {
                        group.revalidated.push(download(path));
                        group.revalidated_bytes += best(path);
                    }
                }
            }
        }
        let mut groups: Vec<Group> = groups.into_values().collect();
        groups.sort_by(|a, b| {
            (b.bytes, b.revalidated_bytes)
                .cmp(&(a.bytes, a.revalidated_bytes))
                .then_with(|| a.cause.root.cmp(&b.cause.root))
        });
        Changes {
            version: EXPLAIN_VERSION,
            generations: self.generations.clone(),
            recorded: self.recorded,
            bytes: renamed.iter().map(|p| best(p)).sum(),
            revalidated_bytes: revalidated.iter().map(|p| best(p)).sum(),
            renamed,
            revalidated,
            added: of(Status::Added),
            removed: of(Status::Removed),
            groups,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::refs::{Position, Source, REFS_VERSION};

    /// A generation from `(logical, served, sha, refs)`, with sources equal to `sources`.
    fn snapshot(
        id: &str,
        files: &[(&str, &str, &str, &[&str])],
        sources: &[(&str, &str)],
    ) -> Snapshot {
        let mut manifest = Manifest::new("/");
        let mut refs = RefsRecord {
            version: REFS_VERSION,
            ..RefsRecord::default()
        };
        for (logical, path, sha, references) in files {
            manifest.entries.insert(
                (*logical).into(),
                Entry {
                    path: (*path).into(),
                    sha256: (*sha).into(),
                    size: sha.len() as u64,
                    immutable: path != logical,
                    references: references.iter().map(|r| (*r).into()).collect(),
                    ..Entry::default()
                },
            );
            let source = sources
                .iter()
                .find(|(l, _)| l == logical)
                .map_or(*sha, |s| s.1);
            refs.files.insert(
                (*logical).into(),
                Source {
                    references: references
                        .iter()
                        .enumerate()
                        .map(|(n, r)| Position {
                            column: 1,
                            line: n as u32 + 1,
                            target: (*r).into(),
                        })
                        .collect(),
                    sha256: source.into(),
                    size: source.len() as u64,
                },
            );
        }
        Snapshot {
            id: id.into(),
            manifest,
            refs: Some(refs),
        }
    }

    #[test]
    fn a_cycle_is_renamed_as_one_unit_through_the_member_that_changed() {
        // a.js <-> b.js; index.html -> a.js. b.js's own bytes change.
        let old = snapshot(
            "o",
            &[
                ("a.js", "a.A1.js", "a1", &["b.js"]),
                ("b.js", "b.B1.js", "b1", &["a.js"]),
                ("index.html", "index.html", "i1", &["a.js"]),
            ],
            &[("a.js", "sa"), ("b.js", "sb1"), ("index.html", "si")],
        );
        let new = snapshot(
            "n",
            &[
                ("a.js", "a.A2.js", "a2", &["b.js"]),
                ("b.js", "b.B2.js", "b2", &["a.js"]),
                ("index.html", "index.html", "i2", &["a.js"]),
            ],
            &[("a.js", "sa"), ("b.js", "sb22"), ("index.html", "si")],
        );
        let c = Comparison::new(&new, &old);
        assert_eq!(
            c.files["a.js"].reasons,
            [Reason::Cycle {
                members: vec!["a.js".into(), "b.js".into()],
                changed: vec!["b.js".into()],
            }]
        );
        assert_eq!(
            c.files["b.js"].reasons,
            [Reason::Bytes {
                old_size: 3,
                new_size: 4,
                old_sha256: "sb1".into(),
                new_sha256: "sb22".into(),
                recorded: true,
            }]
        );
        let root = Root {
            kind: RootKind::Bytes,
            path: Some("b.js".into()),
        };
        for p in ["a.js", "b.js", "index.html"] {
            assert_eq!(c.roots(p).collect::<Vec<_>>(), [&root], "{p}");
        }
        let changes = c.changes();
        assert_eq!(changes.renamed, ["a.js", "b.js"]);
        assert_eq!(changes.revalidated, ["index.html"]);
        assert_eq!(changes.groups.len(), 1);
        assert_eq!(changes.bytes, 4, "a2 and b2: two bytes each");
    }

    #[test]
    fn a_removed_target_and_unchanged_settings_are_root_causes() {
        let old = snapshot(
            "o",
            &[
                ("a.css", "a.A1.css", "a1", &["x.png"]),
                ("x.png", "x.X.png", "x", &[]),
                ("b.css", "b.B1.css", "b1", &[]),
            ],
            &[],
        );
        let mut new = snapshot(
            "n",
            &[
                ("a.css", "a.A2.css", "a2", &[]),
                ("b.css", "b.B2.css", "b2", &[]),
            ],
            &[],
        );
        // The sources of a.css and b.css are what they were.
        let refs = new.refs.as_mut().unwrap();
        refs.files.get_mut("a.css").unwrap().sha256 = "a1".into();
        refs.files.get_mut("a.css").unwrap().size = 2;
        refs.files.get_mut("b.css").unwrap().sha256 = "b1".into();
        refs.files.get_mut("b.css").unwrap().size = 2;
        let c = Comparison::new(&new, &old);
        assert_eq!(
            c.files["a.css"].reasons,
            [Reason::Dropped {
                target: "x.png".into(),
                at: vec![At {
                    file: "a.css".into(),
                    line: 1,
                    column: 1
                }],
            }]
        );
        assert_eq!(c.files["b.css"].reasons, [Reason::Settings]);
        assert_eq!(c.changes().removed, ["x.png"]);
    }

    #[test]
    fn without_records_a_change_nothing_else_explains_is_inferred_to_be_its_own() {
        let mut old = snapshot("o", &[("a.css", "a.A1.css", "a1", &[])], &[]);
        let mut new = snapshot("n", &[("a.css", "a.A2.css", "a22", &[])], &[]);
        old.refs = None;
        new.refs = None;
        let c = Comparison::new(&new, &old);
        assert!(!c.recorded);
        assert_eq!(
            c.files["a.css"].reasons,
            [Reason::Bytes {
                old_size: 2,
                new_size: 3,
                old_sha256: "a1".into(),
                new_sha256: "a22".into(),
                recorded: false,
            }]
        );
    }
}
