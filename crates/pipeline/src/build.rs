//! The build: walk → references → names, leaves first → staged tree and manifest → swap.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use assetc_core::fingerprint::{hex, sha256};
use assetc_core::url_ref::{classify, LocalRef, Reference};
use assetc_core::{
    content_type, fingerprint, fingerprinted_name, strong_etag, Digest, Entry, LogicalPath,
    Manifest, MANIFEST_FILE_NAME,
};
use sha2::{Digest as _, Sha256};

use crate::entry_points::EntryPoints;
use crate::error::{BuildError, Warning, WarningKind};
use crate::graph::components_in_dependency_order;
use crate::html::{decode_char_refs, rewrite_html, HtmlRefRole};
use crate::output::Staging;
use crate::walk::{walk, PathFilter, SourceFile};

/// What to build and how.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    /// Prefix for rewritten references to fingerprinted files: `/` (keep each reference's
    /// own form), a path such as `/static/`, or an origin such as `https://cdn.example.com/`.
    pub base_url: String,
    /// Fail on any warning.
    pub strict: bool,
    /// If not empty, only files matching one of these are built.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Extra entry-point patterns beside [`crate::entry_points::DEFAULT_ENTRY_POINTS`].
    pub entry_points: Vec<String>,
    /// The build's time in seconds since the Unix epoch (`SOURCE_DATE_EPOCH` when set).
    pub build_time: i64,
}

/// What a build did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildReport {
    pub files: usize,
    pub fingerprinted: usize,
    pub entry_points: usize,
    /// Bytes of all served files.
    pub bytes: u64,
    pub warnings: Vec<Warning>,
    /// False when the result equalled the previous build, which was left untouched.
    pub changed: bool,
}

/// The format of a file, which decides how its references are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Html,
    Opaque,
}

fn format_of(path: &LogicalPath) -> Format {
    match path.extension().as_deref() {
        Some("html" | "htm") => Format::Html,
        _ => Format::Opaque,
    }
}

/// One source file on its way through the build.
struct Node {
    source: SourceFile,
    format: Format,
    entry_point: bool,
    body: Body,
    /// Logical paths of every local target found (for the manifest).
    references: BTreeSet<usize>,
    /// Charset label for HTML.
    charset: String,
}

enum Body {
    /// Text that will be rewritten.
    Text(Vec<u8>),
    /// An opaque file already copied into the staging directory while it was hashed.
    Staged {
        tmp: PathBuf,
        digest: Digest,
        size: u64,
        head: Vec<u8>,
    },
}

/// The result of naming one node.
struct Named {
    served: LogicalPath,
    digest: Digest,
    size: u64,
    content_type: String,
    /// Rewritten bytes still to be written (None: already staged).
    bytes: Option<Vec<u8>>,
}

/// Builds `options.input` into `options.output`.
pub fn build(options: &BuildOptions) -> Result<BuildReport, BuildError> {
    let base_url = normalize_base_url(&options.base_url)?;
    let (input, output) = check_paths(&options.input, &options.output)?;
    let previous = read_previous_manifest(&output)?;
    let filter = PathFilter::new(&options.include, &options.exclude)?;
    let entry_points = EntryPoints::new(&options.entry_points)?;

    let mut warnings = Vec::new();
    let sources = walk(&input, &filter, &mut warnings)?;

    let staging = Staging::begin(&output)?;
    let tmp_dir = staging.dir().join(".assetc").join("tmp");
    fs::create_dir_all(&tmp_dir).map_err(BuildError::io(&tmp_dir))?;

    let mut nodes = Vec::with_capacity(sources.len());
    for (i, source) in sources.into_iter().enumerate() {
        let format = format_of(&source.logical);
        let entry_point = entry_points.contains(&source.logical);
        let body = match format {
            Format::Html => {
                Body::Text(fs::read(&source.path).map_err(BuildError::io(&source.path))?)
            }
            Format::Opaque => copy_hashing(&source.path, &tmp_dir.join(i.to_string()))?,
        };
        let charset = match &body {
            Body::Text(bytes) => {
                content_type::declared_charset("text/html", bytes).unwrap_or_else(|| "utf-8".into())
            }
            Body::Staged { .. } => String::new(),
        };
        nodes.push(Node {
            source,
            format,
            entry_point,
            body,
            references: BTreeSet::new(),
            charset,
        });
    }
    let index: HashMap<LogicalPath, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.source.logical.clone(), i))
        .collect();
    let paths: Vec<LogicalPath> = nodes.iter().map(|n| n.source.logical.clone()).collect();
    let resolver = Resolver {
        index: &index,
        paths: &paths,
    };

    // References: find every local target, warn about the missing ones.
    let mut not_rewritable = vec![false; nodes.len()];
    for (i, node) in nodes.iter_mut().enumerate() {
        let Body::Text(bytes) = &node.body else {
            continue;
        };
        let from = node.source.logical.clone();
        let mut targets = BTreeSet::new();
        let scanned = rewrite_html(bytes, &node.charset, |r| {
            match resolver.resolve(&from, &r.value, r.role) {
                Resolution::Target(t) => {
                    targets.insert(t);
                }
                Resolution::Untouchable => {}
                Resolution::Problem(kind) => warnings.push(Warning {
                    file: from.to_string(),
                    line: Some(r.line),
                    column: Some(r.column),
                    kind,
                }),
            }
            None
        });
        if let Err(message) = scanned {
            warnings.push(Warning {
                file: from.to_string(),
                line: None,
                column: None,
                kind: WarningKind::NotRewritten { message },
            });
            not_rewritable[i] = true;
        }
        node.references = targets;
    }
    if options.strict && !warnings.is_empty() {
        return Err(BuildError::Strict { warnings });
    }

    // Names, leaves first: a file's bytes include the names of what it references.
    let edges: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            n.references
                .iter()
                .copied()
                .filter(|&t| !nodes[t].entry_point)
                .collect()
        })
        .collect();
    let mut named: Vec<Option<Named>> = (0..nodes.len()).map(|_| None).collect();
    for component in components_in_dependency_order(&edges) {
        let cycle = component.len() > 1 || edges[component[0]].contains(&component[0]);
        if cycle {
            name_cycle(
                &component,
                &nodes,
                &mut named,
                &resolver,
                &base_url,
                &not_rewritable,
            )?;
        } else {
            let i = component[0];
            let result = name_one(
                i,
                &nodes,
                &named,
                &resolver,
                &base_url,
                not_rewritable[i],
                None,
            )?;
            named[i] = Some(result);
        }
    }

    // The staged tree and the manifest.
    let mut manifest = Manifest::new(base_url.clone());
    let mut served_by: BTreeMap<String, String> = BTreeMap::new();
    let mut bytes_total = 0;
    for (i, node) in nodes.iter().enumerate() {
        let n = named[i].take().expect("every node is named");
        if let Some(other) = served_by.insert(n.served.to_string(), node.source.logical.to_string())
        {
            return Err(BuildError::NameClash {
                a: other,
                b: node.source.logical.to_string(),
                served: n.served.to_string(),
            });
        }
        let target = staging.dir().join(n.served.as_str());
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(BuildError::io(parent))?;
        }
        match (&n.bytes, &node.body) {
            (Some(bytes), _) => fs::write(&target, bytes).map_err(BuildError::io(&target))?,
            (None, Body::Staged { tmp, .. }) => {
                fs::rename(tmp, &target).map_err(BuildError::io(&target))?
            }
            (None, Body::Text(_)) => unreachable!("text is always rewritten into bytes"),
        }
        let logical = node.source.logical.to_string();
        let sha256 = hex(&n.digest);
        let last_modified = match previous.as_ref().and_then(|m| m.entries.get(&logical)) {
            Some(prev) if prev.sha256 == sha256 => prev.last_modified,
            Some(prev) => options.build_time.max(prev.last_modified + 1),
            None => options.build_time,
        };
        bytes_total += n.size;
        manifest.entries.insert(
            logical,
            Entry {
                content_type: n.content_type,
                etag: strong_etag(&n.digest),
                immutable: !node.entry_point,
                last_modified,
                path: n.served.to_string(),
                references: node
                    .references
                    .iter()
                    .map(|&t| nodes[t].source.logical.to_string())
                    .collect(),
                sha256,
                size: n.size,
            },
        );
    }
    fs::remove_dir_all(&tmp_dir).map_err(BuildError::io(&tmp_dir))?;
    let manifest_bytes = manifest.to_json();
    let manifest_path = staging.dir().join(MANIFEST_FILE_NAME);
    fs::write(&manifest_path, &manifest_bytes).map_err(BuildError::io(&manifest_path))?;

    let fingerprinted = nodes.iter().filter(|n| !n.entry_point).count();
    let unchanged = previous.is_some_and(|p| p.to_json() == manifest_bytes);
    if !unchanged {
        staging.commit()?;
    }
    Ok(BuildReport {
        files: nodes.len(),
        fingerprinted,
        entry_points: nodes.len() - fingerprinted,
        bytes: bytes_total,
        warnings,
        changed: !unchanged,
    })
}

/// Names a single file whose dependencies are all named. A member of a cycle gets the
/// fingerprint computed for it over the whole cycle.
fn name_one(
    i: usize,
    nodes: &[Node],
    named: &[Option<Named>],
    resolver: &Resolver<'_>,
    base_url: &str,
    not_rewritable: bool,
    cycle_fingerprint: Option<&str>,
) -> Result<Named, BuildError> {
    let node = &nodes[i];
    let logical = &node.source.logical;
    let (bytes, digest, size, head) = match &node.body {
        Body::Staged {
            digest, size, head, ..
        } => (None, *digest, *size, head.as_slice()),
        Body::Text(text) => {
            let rewritten = if not_rewritable {
                text.clone()
            } else {
                rewrite_references(
                    node,
                    text,
                    |target| named[target].as_ref().map(|n| &n.served),
                    resolver,
                    base_url,
                )?
            };
            let digest = sha256(&rewritten);
            let size = rewritten.len() as u64;
            (Some(rewritten), digest, size, &[][..])
        }
    };
    let head = match &bytes {
        Some(b) => &b[..b.len().min(1024)],
        None => head,
    };
    let served = if node.entry_point {
        logical.clone()
    } else {
        fingerprinted_name(logical, cycle_fingerprint.unwrap_or(&fingerprint(&digest)))
    };
    Ok(Named {
        served,
        digest,
        size,
        content_type: content_type::content_type(logical.as_str(), head),
        bytes,
    })
}

/// Names the members of a cycle as one unit: their fingerprints derive from the content
/// of the whole component (with references inside the cycle as written), so a change to
/// any member renames every member, deterministically.
fn name_cycle(
    component: &[usize],
    nodes: &[Node],
    named: &mut [Option<Named>],
    resolver: &Resolver<'_>,
    base_url: &str,
    not_rewritable: &[bool],
) -> Result<(), BuildError> {
    let mut hasher = Sha256::new();
    for &i in component {
        let partial = name_one(i, nodes, named, resolver, base_url, not_rewritable[i], None)?;
        let logical = nodes[i].source.logical.as_str();
        hasher.update((logical.len() as u64).to_le_bytes());
        hasher.update(logical.as_bytes());
        hasher.update(partial.digest);
    }
    let component_digest: Digest = hasher.finalize().into();
    // First give every member its name, then rewrite each with all the names known.
    let mut fingerprints = Vec::with_capacity(component.len());
    for &i in component {
        let mut h = Sha256::new();
        h.update(component_digest);
        h.update(nodes[i].source.logical.as_str().as_bytes());
        let fp = fingerprint(&h.finalize().into());
        let served = if nodes[i].entry_point {
            nodes[i].source.logical.clone()
        } else {
            fingerprinted_name(&nodes[i].source.logical, &fp)
        };
        named[i] = Some(Named {
            served,
            digest: [0; 32],
            size: 0,
            content_type: String::new(),
            bytes: None,
        });
        fingerprints.push(fp);
    }
    for (&i, fp) in component.iter().zip(&fingerprints) {
        named[i] = Some(name_one(
            i,
            nodes,
            named,
            resolver,
            base_url,
            not_rewritable[i],
            Some(fp),
        )?);
    }
    Ok(())
}

/// Rewrites the references of a text file to the served names of their targets.
fn rewrite_references<'n>(
    node: &Node,
    text: &[u8],
    served: impl Fn(usize) -> Option<&'n LogicalPath>,
    resolver: &Resolver<'_>,
    base_url: &str,
) -> Result<Vec<u8>, BuildError> {
    let from = &node.source.logical;
    match node.format {
        Format::Html => rewrite_html(text, &node.charset, |r| {
            let Reference::Local(local) = classify(&r.value) else {
                return None;
            };
            let Resolution::Target(target) = resolver.resolve(from, &r.value, r.role) else {
                return None;
            };
            let served = served(target)?;
            new_reference(&local, resolver.logical(target), served, base_url)
        })
        .map_err(|message| BuildError::Rewrite {
            path: from.to_string(),
            message,
        }),
        Format::Opaque => Ok(text.to_vec()),
    }
}

/// The reference rewritten to a fingerprinted name, or None when the target keeps its path.
fn new_reference(
    local: &LocalRef<'_>,
    logical: &LogicalPath,
    served: &LogicalPath,
    base_url: &str,
) -> Option<String> {
    if served == logical {
        return None;
    }
    Some(if base_url == "/" {
        local.with_file_name(served.file_name())
    } else {
        local.under_base(base_url, served.as_str())
    })
}

/// Resolves references as written to nodes.
struct Resolver<'a> {
    index: &'a HashMap<LogicalPath, usize>,
    paths: &'a [LogicalPath],
}

enum Resolution {
    Untouchable,
    Target(usize),
    Problem(WarningKind),
}

impl Resolver<'_> {
    fn logical(&self, target: usize) -> &LogicalPath {
        &self.paths[target]
    }

    fn resolve(&self, from: &LogicalPath, raw: &str, role: HtmlRefRole) -> Resolution {
        let Reference::Local(local) = classify(raw) else {
            return Resolution::Untouchable;
        };
        let reference = raw.trim().to_owned();
        let path = decode_char_refs(local.path);
        let decoded = match (LocalRef {
            path: &path,
            ..local
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
        if role == HtmlRefRole::Navigation && !decoded.ends_with('/') {
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

/// Copies `from` to `to` while hashing it, in one read.
fn copy_hashing(from: &Path, to: &Path) -> Result<Body, BuildError> {
    let mut reader = fs::File::open(from).map_err(BuildError::io(from))?;
    let mut writer = fs::File::create(to).map_err(BuildError::io(to))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    let mut head = Vec::new();
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(BuildError::Io {
                    path: from.to_path_buf(),
                    source: e,
                })
            }
        };
        if head.len() < 1024 {
            head.extend_from_slice(&buf[..n.min(1024 - head.len())]);
        }
        hasher.update(&buf[..n]);
        writer.write_all(&buf[..n]).map_err(BuildError::io(to))?;
        size += n as u64;
    }
    Ok(Body::Staged {
        tmp: to.to_path_buf(),
        digest: hasher.finalize().into(),
        size,
        head,
    })
}

/// `/`, `/static/`, or `https://cdn.example.com/assets/`, always ending in `/`.
fn normalize_base_url(base: &str) -> Result<String, BuildError> {
    let error = |message: &str| BuildError::BaseUrl {
        base_url: base.to_owned(),
        message: message.to_owned(),
    };
    let base = base.trim();
    let is_origin = base.starts_with("https://") || base.starts_with("http://");
    if !(base.starts_with('/') || is_origin) {
        return Err(error(
            "it must be a path starting with `/` or an `http(s)://` origin",
        ));
    }
    if base.starts_with("//") {
        return Err(error(
            "a scheme-relative URL is ambiguous; write `https://host/` instead",
        ));
    }
    if base.contains(['?', '#', ' ', '"', '\'', '<', '>', '\\']) {
        return Err(error(
            "it must not contain a query, a fragment, spaces, quotes or backslashes",
        ));
    }
    Ok(if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    })
}

/// Canonical input and output paths, refusing an output inside the input and the reverse.
fn check_paths(input: &Path, output: &Path) -> Result<(PathBuf, PathBuf), BuildError> {
    let input = match fs::canonicalize(input) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BuildError::InputMissing {
                path: input.to_path_buf(),
            })
        }
        Err(e) => {
            return Err(BuildError::Io {
                path: input.to_path_buf(),
                source: e,
            })
        }
    };
    if !input.is_dir() {
        return Err(BuildError::InputNotDirectory { path: input });
    }
    let output_abs = absolute(output)?;
    if output_abs.starts_with(&input) {
        return Err(BuildError::OutputInsideInput {
            output: output.to_path_buf(),
            input,
        });
    }
    if input.starts_with(&output_abs) {
        return Err(BuildError::InputInsideOutput {
            output: output.to_path_buf(),
            input,
        });
    }
    Ok((input, output_abs))
}

/// An absolute path with every existing ancestor canonicalised, for a path that may not
/// exist yet.
fn absolute(path: &Path) -> Result<PathBuf, BuildError> {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(BuildError::io(path))?
            .join(path)
    };
    let mut existing = path.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = fs::canonicalize(existing) {
            let mut result = canonical;
            for part in rest.iter().rev() {
                result.push(part);
            }
            return Ok(result);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return Ok(path),
        }
    }
}

/// The manifest of the build currently in `output`, if there is one.
fn read_previous_manifest(output: &Path) -> Result<Option<Manifest>, BuildError> {
    let path = output.join(MANIFEST_FILE_NAME);
    match fs::read(&path) {
        Ok(bytes) => {
            Manifest::from_json(&bytes)
                .map(Some)
                .map_err(|e| BuildError::PreviousManifest {
                    path,
                    message: e.to_string(),
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let empty = match fs::read_dir(output) {
                Ok(mut entries) => entries.next().is_none(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                Err(e) => {
                    return Err(BuildError::Io {
                        path: output.to_path_buf(),
                        source: e,
                    })
                }
            };
            if empty {
                Ok(None)
            } else {
                Err(BuildError::NotABuild {
                    path: output.to_path_buf(),
                })
            }
        }
        Err(e) => Err(BuildError::Io { path, source: e }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(normalize_base_url("/").unwrap(), "/");
        assert_eq!(normalize_base_url("/static").unwrap(), "/static/");
        assert_eq!(
            normalize_base_url("https://cdn.example.com").unwrap(),
            "https://cdn.example.com/"
        );
        for bad in ["static/", "//cdn.example.com/", "/a?b", "ftp://x/"] {
            assert!(normalize_base_url(bad).is_err(), "{bad}");
        }
    }
}
