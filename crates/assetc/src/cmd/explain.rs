//! `assetc explain`: why a file's name changed between the newest generation of a build and
//! the previous one (or `--since`), as a chain of causes down to the files whose own bytes
//! changed, with the `file:line:column` of every reference on the way; `--changed`: every
//! renamed file, grouped by root cause, with the bytes each root cause costs a returning
//! visitor. The explanation is the command's output, on stdout (`--json`: the
//! machine-readable one); errors go to stderr.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use assetc_pipeline::output::explain::{
    Changes, Comparison, Download, Explanation, FileChange, Reason, RootCause, RootKind, Snapshot,
    Status,
};
use assetc_pipeline::output::records::Records;

use crate::cli::ExplainArgs;
use crate::config::Config;
use crate::settings::build_root;

pub fn run(args: ExplainArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let root = build_root(args.root.as_deref(), config);
    let records =
        Records::open(&root).with_context(|| format!("cannot explain `{}`", root.display()))?;
    let (new, old) = pair(&records, &root, args.since.as_deref())?;
    let comparison = Comparison::new(&new, &old);
    match args.path {
        Some(path) => {
            let logical = logical_path(&comparison, &path).ok_or_else(|| {
                anyhow!(
                    "`{path}` is in neither generation (`{}` nor `{}`) of `{}`; hint: give a logical path as the manifest has it{}",
                    new.id,
                    old.id,
                    root.display(),
                    suggestion(&comparison, &path)
                )
            })?;
            let explanation = comparison
                .explain(&logical)
                .expect("the path is in the comparison");
            if args.json {
                println!("{}", serde_json::to_string_pretty(&explanation)?);
            } else {
                print!("{}", explanation_text(&explanation));
            }
        }
        None => {
            let changes = comparison.changes();
            if args.json {
                println!("{}", serde_json::to_string_pretty(&changes)?);
            } else {
                print!("{}", changes_text(&changes));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The newest generation and the one to compare it with: `since`, or the previous one.
pub(crate) fn pair(
    records: &Records,
    root: &Path,
    since: Option<&str>,
) -> anyhow::Result<(Snapshot, Snapshot)> {
    let ids: Vec<&str> = records.generations.iter().map(|g| g.id.as_str()).collect();
    let kept = || {
        ids.iter()
            .map(|id| format!("`{id}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(&newest) = ids.first() else {
        return Err(anyhow!(
            "`{}` has no generations record (`.assetc/generations.json`); hint: rebuild it with this assetc",
            root.display()
        ));
    };
    let older = match since {
        None => *ids.get(1).ok_or_else(|| {
            anyhow!(
                "`{}` keeps one generation (`{newest}`), so there is nothing to compare it with; hint: build again after a change: each build keeps the previous ones (`--keep`, `--keep-age`)",
                root.display()
            )
        })?,
        Some(wanted) => {
            let matching: Vec<&str> = ids
                .iter()
                .copied()
                .filter(|id| !wanted.is_empty() && id.starts_with(wanted))
                .collect();
            match matching[..] {
                [id] if id == newest => {
                    return Err(anyhow!(
                        "`{wanted}` is the newest generation of `{}`; hint: `--since` takes an older one; kept: {}",
                        root.display(),
                        kept()
                    ))
                }
                [id] => id,
                [] => {
                    return Err(anyhow!(
                        "generation `{wanted}` is not kept in `{}`; hint: kept: {}",
                        root.display(),
                        kept()
                    ))
                }
                _ => {
                    return Err(anyhow!(
                        "`{wanted}` names more than one kept generation of `{}`; hint: give more of the id; kept: {}",
                        root.display(),
                        kept()
                    ))
                }
            }
        }
    };
    let snapshot = |id: &str| {
        records.snapshot(id).ok_or_else(|| {
            anyhow!(
                "the manifest of generation `{id}` in `{}` cannot be read; hint: `assetc verify --root {}` lists what is wrong",
                root.display(),
                root.display()
            )
        })
    };
    Ok((snapshot(newest)?, snapshot(older)?))
}

/// The logical path `path` names: itself, or the file one generation serves at `path`.
fn logical_path(comparison: &Comparison, path: &str) -> Option<String> {
    let path = path.trim_start_matches('/');
    if comparison.files.contains_key(path) {
        return Some(path.to_owned());
    }
    comparison.files.iter().find_map(|(logical, f)| {
        [&f.new, &f.old]
            .into_iter()
            .flatten()
            .any(|s| s.path == path)
            .then(|| logical.clone())
    })
}

/// `: did you mean …` for a path whose file name some logical path ends in.
fn suggestion(comparison: &Comparison, path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let similar: Vec<&str> = comparison
        .files
        .keys()
        .filter(|k| !name.is_empty() && k.rsplit('/').next() == Some(name))
        .map(String::as_str)
        .take(3)
        .collect();
    if similar.is_empty() {
        " (such as `css/site.css`)".to_owned()
    } else {
        format!(
            ": did you mean {}?",
            similar
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// `12345` as `12,345`.
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn sizes(old: u64, new: u64) -> String {
    format!("{} → {} bytes", grouped(old), grouped(new))
}

/// What happened to a file, after its path: `renamed a.X.css → a.Y.css`.
fn status_text(f: &FileChange) -> String {
    let (old, new) = (f.old.as_ref(), f.new.as_ref());
    match (f.status, old, new) {
        (Status::Renamed, Some(o), Some(n)) => format!("renamed {} → {}", o.path, n.path),
        (Status::Changed, Some(o), Some(n)) => format!(
            "same path, new bytes ({}), revalidated",
            sizes(o.size, n.size)
        ),
        (Status::Added, _, Some(n)) => format!("added as {} ({} bytes)", n.path, grouped(n.size)),
        (Status::Removed, Some(o), _) => format!("removed (it was {})", o.path),
        (_, _, Some(n)) => format!("unchanged ({})", n.path),
        _ => "unchanged".to_owned(),
    }
}

/// `at a.css:3:5, a.css:9:5`: at most three positions, then how many more.
fn at_text(at: &[assetc_pipeline::output::explain::At]) -> String {
    if at.is_empty() {
        return " (position not recorded)".to_owned();
    }
    let mut shown: Vec<String> = at
        .iter()
        .take(3)
        .map(|a| format!("{}:{}:{}", a.file, a.line, a.column))
        .collect();
    if at.len() > 3 {
        shown.push(format!("and {} more", at.len() - 3));
    }
    format!(" at {}", shown.join(", "))
}

/// A reason, after `because`, and the files it leads to.
pub(crate) fn reason_text(reason: &Reason) -> (String, Vec<&str>) {
    match reason {
        Reason::Bytes {
            old_size,
            new_size,
            recorded: true,
            ..
        } => (
            format!("its own bytes changed ({})", sizes(*old_size, *new_size)),
            vec![],
        ),
        Reason::Bytes {
            old_size, new_size, ..
        } => (
            format!(
                "its bytes changed ({}; not recorded whether its own source did: a generation has no reference record)",
                sizes(*old_size, *new_size)
            ),
            vec![],
        ),
        Reason::Reference { target, at } => (
            format!("it references {target}{}", at_text(at)),
            vec![target.as_str()],
        ),
        Reason::Cycle { members, changed } => (
            format!(
                "it is in a reference cycle named as one unit ({}), and {} changed",
                members.join(", "),
                changed.join(", ")
            ),
            changed.iter().map(String::as_str).collect(),
        ),
        Reason::Dropped { target, at } => (
            format!(
                "it referenced {target}{}, which is gone (the reference is now left as written)",
                at_text(at)
            ),
            vec![target.as_str()],
        ),
        Reason::Settings => (
            "the build's settings changed (base URL, `--sri`, entry points): its source and everything it references are the same".to_owned(),
            vec![],
        ),
    }
}

/// The root cause, in words: `fonts/body.woff2: its own bytes changed (…)`.
pub(crate) fn cause_text(cause: &RootCause) -> String {
    let path = cause.root.path.as_deref().unwrap_or("");
    let sizes = match (cause.old_size, cause.new_size) {
        (Some(o), Some(n)) => format!(" ({})", sizes(o, n)),
        _ => String::new(),
    };
    match cause.root.kind {
        RootKind::Bytes => format!("{path}: its own bytes changed{sizes}"),
        RootKind::Added => format!(
            "{path}: added ({} bytes)",
            grouped(cause.new_size.unwrap_or(0))
        ),
        RootKind::Removed => format!(
            "{path}: removed (it had {} bytes)",
            grouped(cause.old_size.unwrap_or(0))
        ),
        RootKind::Settings => "the build's settings changed".to_owned(),
    }
}

/// The explanation in words: the file, each reason under it (`because …`), the files a
/// reason leads to under that, each file explained once; then the root causes.
pub(crate) fn explanation_text(e: &Explanation) -> String {
    fn file(
        e: &Explanation,
        path: &str,
        depth: usize,
        seen: &mut BTreeSet<String>,
        out: &mut String,
    ) {
        let indent = "  ".repeat(depth);
        let f = &e.files[path];
        if !seen.insert(path.to_owned()) {
            let _ = writeln!(out, "{indent}{path}: {} (explained above)", status_text(f));
            return;
        }
        let _ = writeln!(out, "{indent}{path}: {}", status_text(f));
        for reason in &f.reasons {
            let (text, leads_to) = reason_text(reason);
            let _ = writeln!(out, "{indent}  because {text}");
            for next in leads_to {
                file(e, next, depth + 2, seen, out);
            }
        }
    }
    let mut out = String::new();
    file(e, &e.path, 0, &mut BTreeSet::new(), &mut out);
    match e.status {
        Status::Unchanged => {
            let _ = writeln!(out, "nothing it depends on changed");
        }
        Status::Renamed | Status::Changed | Status::Added => {
            for cause in &e.root_causes {
                let _ = writeln!(out, "root cause: {}", cause_text(cause));
            }
        }
        Status::Removed => {}
    }
    let _ = writeln!(
        out,
        "(generation {} since {})",
        e.generations.new, e.generations.old
    );
    out
}

/// `--changed` in words.
fn changes_text(c: &Changes) -> String {
    let mut out = String::new();
    if c.renamed.is_empty() {
        let _ = writeln!(
            out,
            "nothing renamed since generation {}",
            c.generations.old
        );
    } else {
        let _ = writeln!(
            out,
            "{} file{} renamed since generation {}: a returning visitor downloads {} bytes again (best variants)",
            c.renamed.len(),
            if c.renamed.len() == 1 { "" } else { "s" },
            c.generations.old,
            grouped(c.bytes)
        );
    }
    let width = c
        .groups
        .iter()
        .flat_map(|g| g.renamed.iter().chain(&g.revalidated))
        .map(|d| d.path.chars().count())
        .max()
        .unwrap_or(0);
    let list = |out: &mut String, files: &[Download]| {
        for d in files {
            let _ = writeln!(
                out,
                "    {:<width$}  {:>11} bytes ({})",
                d.path,
                grouped(d.size),
                d.coding
            );
        }
    };
    for g in &c.groups {
        let _ = writeln!(out, "\nroot cause {}", cause_text(&g.cause));
        if !g.renamed.is_empty() {
            let _ = writeln!(
                out,
                "  renamed, {} bytes to download again:",
                grouped(g.bytes)
            );
            list(&mut out, &g.renamed);
        }
        if !g.revalidated.is_empty() {
            let _ = writeln!(
                out,
                "  same path, new bytes ({} bytes, revalidated):",
                grouped(g.revalidated_bytes)
            );
            list(&mut out, &g.revalidated);
        }
    }
    out
}
