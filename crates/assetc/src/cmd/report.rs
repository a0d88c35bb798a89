//! `assetc report`: one self-contained HTML file about a build, written outside it: a
//! treemap of the files by size (drawn here, as SVG, so it needs no JavaScript), totals per
//! type and per coding, what a first visit to a page downloads and in what depth, what
//! changed since the previous generation and why (`explain --changed`), the largest files
//! and those compression does not help. The templates (`report.html`, `.css`, `.js`) are
//! compiled in; the script is small, inline, and only adds the page chooser, the drawn
//! graph and details on a click. A Content-Security-Policy with the hashes of the inline
//! style and script forbids every request.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{anyhow, Context};
use assetc_core::fingerprint::sha256;
use assetc_core::Manifest;
use assetc_pipeline::output::explain::{best, Changes, Comparison, Snapshot, Status};
use assetc_pipeline::output::records::Records;
use base64::Engine as _;

use crate::cli::ReportArgs;
use crate::cmd::explain::{cause_text, explanation_text, grouped, reason_text};
use crate::config::Config;
use crate::settings::build_root;
use crate::ui;

const TEMPLATE: &str = include_str!("report.html");
const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// The report's file when `--output` is not given, in the current directory.
const DEFAULT_OUTPUT: &str = "report.html";

/// The treemap's drawing size (its SVG viewBox; the page scales it to its width).
const MAP_WIDTH: f64 = 1200.0;
const MAP_HEIGHT: f64 = 640.0;

/// How many rows the lists of the largest and the incompressible files show.
const TOP: usize = 25;
/// How many files of one root cause are listed, each with its explanation.
const LISTED_PER_CAUSE: usize = 100;
/// How many changed files carry their reasons into the page's data (for the details).
const REASONS_KEPT: usize = 2_000;

/// File types, as the report groups them; a file of type `k` has the CSS class `k<k>`.
const KINDS: [&str; 7] = [
    "HTML",
    "CSS",
    "JavaScript",
    "images",
    "fonts",
    "JSON, maps, text",
    "other",
];

pub fn run(args: ReportArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let root = build_root(args.root.as_deref(), config);
    let output = args.output.unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT));
    let records =
        Records::open(&root).with_context(|| format!("cannot report on `{}`", root.display()))?;
    refuse_inside(&root, &output)?;

    let newest = records
        .generations
        .first()
        .and_then(|g| records.snapshot(&g.id))
        .unwrap_or_else(|| Snapshot {
            id: String::new(),
            manifest: records.manifest.clone(),
            refs: None,
        });
    let previous = records
        .generations
        .get(1)
        .map(|g| records.snapshot(&g.id).ok_or_else(|| g.id.clone()));
    let comparison = match &previous {
        Some(Ok(old)) => Some(Comparison::new(&newest, old)),
        _ => None,
    };
    let context = About {
        root: &root,
        generation: &newest.id,
        built_at: records.generations.first().map(|g| g.built_at),
        previous: match &previous {
            None => Previous::None,
            Some(Err(id)) => Previous::Unreadable(id.clone()),
            Some(Ok(_)) => Previous::Compared,
        },
    };
    let html = render(&newest.manifest, comparison.as_ref(), &context);

    let tmp = output.with_extension("html.tmp");
    fs::write(&tmp, &html).with_context(|| format!("cannot write `{}`", tmp.display()))?;
    fs::rename(&tmp, &output).with_context(|| format!("cannot write `{}`", output.display()))?;
    eprintln!(
        "wrote `{}` ({}): {} files of `{}`",
        output.display(),
        ui::bytes(html.len() as u64),
        grouped(newest.manifest.entries.len() as u64),
        root.display()
    );
    if args.open {
        open(&output)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses a report inside the build: it would be deployed with it (and `verify` would
/// call it extra).
fn refuse_inside(root: &Path, output: &Path) -> anyhow::Result<()> {
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = fs::canonicalize(&parent).with_context(|| {
        format!(
            "cannot write `{}`: no directory `{}`",
            output.display(),
            parent.display()
        )
    })?;
    let root_dir =
        fs::canonicalize(root).with_context(|| format!("cannot report on `{}`", root.display()))?;
    if dir.starts_with(&root_dir) {
        return Err(anyhow!(
            "`{}` is inside the build `{}`, which is deployed and served; hint: write the report outside it, such as `--output report.html`",
            output.display(),
            root.display()
        ));
    }
    Ok(())
}

/// Opens the report with `xdg-open` when there is one on `PATH`; else says where it is.
fn open(output: &Path) -> anyhow::Result<()> {
    let path =
        fs::canonicalize(output).with_context(|| format!("cannot open `{}`", output.display()))?;
    let opener = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("xdg-open"))
            .find(|candidate| candidate.is_file())
    });
    match opener {
        Some(opener) => {
            Command::new(&opener)
                .arg(&path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("cannot run `{}`", opener.display()))?;
            eprintln!("opening `{}` with `{}`", path.display(), opener.display());
        }
        None => eprintln!(
            "open `{}` in a browser (no `xdg-open` on PATH)",
            path.display()
        ),
    }
    Ok(())
}

/// What the page says about where its data came from.
struct About<'a> {
    root: &'a Path,
    generation: &'a str,
    built_at: Option<i64>,
    previous: Previous,
}

enum Previous {
    None,
    Unreadable(String),
    Compared,
}

/// One served file, as the report uses it.
struct File {
    logical: String,
    served: String,
    size: u64,
    best: u64,
    coding: String,
    kind: usize,
    entry_point: bool,
    /// 0 unchanged (or nothing to compare with), 1 renamed, 2 same path with new bytes, 3 added.
    status: u8,
    references: Vec<usize>,
}

/// The report's type of a file, from its media type: an index into [`KINDS`].
fn kind(content_type: &str) -> usize {
    let media = content_type.split(';').next().unwrap_or("").trim();
    match media {
        "text/html" => 0,
        "text/css" => 1,
        "text/javascript" | "application/javascript" => 2,
        m if m.starts_with("image/") => 3,
        m if m.starts_with("font/") || m.contains("font") => 4,
        m if m.starts_with("text/") || m.contains("json") || m.ends_with("+xml") => 5,
        _ => 6,
    }
}

fn files(manifest: &Manifest, comparison: Option<&Comparison>) -> Vec<File> {
    let index: BTreeMap<&str, usize> = manifest
        .entries
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    manifest
        .entries
        .iter()
        .map(|(logical, e)| {
            let (coding, best) = best(e);
            let status = match comparison
                .and_then(|c| c.files.get(logical))
                .map(|f| f.status)
            {
                Some(Status::Renamed) => 1,
                Some(Status::Changed) => 2,
                Some(Status::Added) => 3,
                _ => 0,
            };
            File {
                logical: logical.clone(),
                served: e.path.clone(),
                size: e.size,
                best,
                coding: coding.to_owned(),
                kind: kind(&e.content_type),
                entry_point: !e.immutable,
                status,
                references: e
                    .references
                    .iter()
                    .filter_map(|r| index.get(r.as_str()).copied())
                    .collect(),
            }
        })
        .collect()
}

/// HTML-escaped text.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A CSP source for inline bytes: `'sha256-<base64>'`.
fn csp_hash(text: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(sha256(text.as_bytes()))
    )
}

/// `saves 72 %`, or `—` when nothing is saved.
fn saving(identity: u64, best: u64) -> String {
    if identity == 0 || best >= identity {
        "—".to_owned()
    } else {
        format!(
            "{:.0} %",
            100.0 * (identity - best) as f64 / identity as f64
        )
    }
}

/// A civil UTC time for seconds since the epoch: `2026-05-09 07:29 UTC`.
fn utc(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// The whole page.
fn render(manifest: &Manifest, comparison: Option<&Comparison>, cx: &About<'_>) -> String {
    let files = files(manifest, comparison);
    let changes = comparison.map(Comparison::changes);
    let pages: Vec<usize> = (0..files.len())
        .filter(|&i| files[i].kind == 0 && files[i].entry_point)
        .collect();
    let start = pages
        .iter()
        .copied()
        .find(|&i| files[i].logical == "index.html")
        .or_else(|| pages.first().copied());

    let mut body = String::new();
    header(&mut body, &files, cx);
    treemap_section(&mut body, &files);
    totals(&mut body, &files, manifest);
    first_visit(&mut body, &files, &pages, start);
    changed(&mut body, changes.as_ref(), comparison, cx);
    largest(&mut body, &files);
    incompressible(&mut body, &files);

    let data = page_data(&files, &pages, start, comparison);
    let csp = format!(
        "default-src 'none'; style-src {}; script-src {}; img-src 'none'; base-uri 'none'; form-action 'none'",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    );
    let title = format!("assetc report: {}", cx.root.display());
    fill(
        TEMPLATE,
        &[
            ("CSP", &esc(&csp)),
            ("TITLE", &esc(&title)),
            ("STYLE", STYLE),
            ("BODY", &body),
            ("DATA", &data),
            ("SCRIPT", SCRIPT),
        ],
    )
}

/// The template with each `{{NAME}}` replaced, in one pass (a value is never scanned).
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + values.iter().map(|v| v.1.len()).sum::<usize>());
    let mut rest = template;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after
            .find("}}")
            .expect("the report template closes every placeholder");
        let name = &after[..end];
        let value = values
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("the report template's placeholder `{name}` has a value"));
        out.push_str(value.1);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn header(out: &mut String, files: &[File], cx: &About<'_>) {
    let identity: u64 = files.iter().map(|f| f.size).sum();
    let best: u64 = files.iter().map(|f| f.best).sum();
    let entry_points = files.iter().filter(|f| f.entry_point).count();
    let _ = write!(
        out,
        "<header><h1>assetc report <span class=root>{}</span></h1><p class=facts>",
        esc(&cx.root.display().to_string())
    );
    if !cx.generation.is_empty() {
        let _ = write!(out, "generation <code>{}</code>", esc(cx.generation));
        if let Some(at) = cx.built_at {
            let _ = write!(out, ", built {}", utc(at));
        }
        out.push_str(" · ");
    }
    let _ = write!(
        out,
        "{} files ({} entry points, {} fingerprinted) · {} served, {} in the best codings ({} saved)</p>",
        grouped(files.len() as u64),
        grouped(entry_points as u64),
        grouped((files.len() - entry_points) as u64),
        ui::bytes(identity),
        ui::bytes(best),
        saving(identity, best)
    );
    out.push_str(
        "<nav><a href=\"#map\">treemap</a><a href=\"#totals\">totals</a><a href=\"#visit\">first visit</a>\
         <a href=\"#changed\">changed</a><a href=\"#largest\">largest</a><a href=\"#incompressible\">compression does not help</a></nav></header>\n",
    );
}

/// A rectangle of the treemap.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// Squarified treemap (Bruls, Huizing, van Wijk): `values` (sorted, largest first, all
/// positive) laid out in `r`, rows along its shorter side, in order.
fn squarify(values: &[f64], mut r: Rect) -> Vec<Rect> {
    let total: f64 = values.iter().sum();
    let mut out = Vec::with_capacity(values.len());
    if total <= 0.0 || r.w <= 0.0 || r.h <= 0.0 {
        return vec![
            Rect {
                w: 0.0,
                h: 0.0,
                ..r
            };
            values.len()
        ];
    }
    let scale = r.w * r.h / total;
    let areas: Vec<f64> = values.iter().map(|v| v * scale).collect();
    // The worst aspect ratio of a row from its sum, largest and smallest area.
    let worst = |sum: f64, max: f64, min: f64, side: f64| {
        (side * side * max / (sum * sum)).max(sum * sum / (side * side * min))
    };
    let mut i = 0;
    while i < areas.len() {
        let side = r.w.min(r.h).max(f64::MIN_POSITIVE);
        let mut j = i + 1;
        let mut sum = areas[i];
        let mut ratio = worst(sum, areas[i], areas[i], side);
        while j < areas.len() {
            let next = worst(sum + areas[j], areas[i], areas[j], side);
            if next > ratio {
                break;
            }
            ratio = next;
            sum += areas[j];
            j += 1;
        }
        let thickness = sum / side;
        let mut offset = 0.0;
        for &a in &areas[i..j] {
            let length = a / thickness;
            if r.w >= r.h {
                out.push(Rect {
                    x: r.x,
                    y: r.y + offset,
                    w: thickness,
                    h: length,
                });
            } else {
                out.push(Rect {
                    x: r.x + offset,
                    y: r.y,
                    w: length,
                    h: thickness,
                });
            }
            offset += length;
        }
        if r.w >= r.h {
            r.x += thickness;
            r.w -= thickness;
        } else {
            r.y += thickness;
            r.h -= thickness;
        }
        i = j;
    }
    out
}

/// A directory of the treemap, with its files and subdirectories.
#[derive(Default)]
struct Dir {
    dirs: BTreeMap<String, Dir>,
    files: Vec<usize>,
    total: u64,
}

impl Dir {
    fn insert(&mut self, parts: &[&str], file: usize, size: u64) {
        self.total += size;
        match parts {
            [] | [_] => self.files.push(file),
            [dir, rest @ ..] => self
                .dirs
                .entry((*dir).to_owned())
                .or_default()
                .insert(rest, file, size),
        }
    }
}

/// `12.3 KiB · br 3.1 KiB`
fn sizes_title(f: &File) -> String {
    if f.coding == "identity" {
        format!("{} · not compressed", ui::bytes(f.size))
    } else {
        format!("{} · {} {}", ui::bytes(f.size), f.coding, ui::bytes(f.best))
    }
}

/// `text` cut to what fits in `width` units of 10px text, keeping its end: `…/dir/`.
fn fit(text: &str, width: f64) -> String {
    let room = ((width - 6.0) / 6.2).max(1.0) as usize;
    if text.chars().count() <= room {
        return text.to_owned();
    }
    let tail: Vec<char> = text.chars().rev().take(room.saturating_sub(1)).collect();
    std::iter::once('…').chain(tail.into_iter().rev()).collect()
}

/// Draws `dir` (named `path`, ending in `/` unless the root) into `r`.
fn draw_dir(out: &mut String, files: &[File], dir: &Dir, path: &str, r: Rect) {
    enum Item<'a> {
        Dir(&'a str, &'a Dir),
        File(usize),
    }
    let mut items: Vec<(u64, &str, Item<'_>)> = dir
        .dirs
        .iter()
        .map(|(name, d)| (d.total, name.as_str(), Item::Dir(name, d)))
        .chain(
            dir.files
                .iter()
                .map(|&i| (files[i].size, files[i].logical.as_str(), Item::File(i))),
        )
        .filter(|(size, _, _)| *size > 0)
        .collect();
    items.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let values: Vec<f64> = items.iter().map(|(s, _, _)| *s as f64).collect();
    for ((_, _, item), rect) in items.iter().zip(squarify(&values, r)) {
        match item {
            Item::File(i) => {
                let f = &files[*i];
                if rect.w * rect.h < 0.5 {
                    continue;
                }
                let changed = if f.status != 0 { " chg" } else { "" };
                let _ = writeln!(
                    out,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" class=\"k{}{changed}\" data-i=\"{i}\"><title>{} · {}</title></rect>",
                    rect.x,
                    rect.y,
                    rect.w,
                    rect.h,
                    f.kind,
                    esc(&f.logical),
                    sizes_title(f)
                );
                if rect.w > 60.0 && rect.h > 16.0 {
                    let name = f.logical.rsplit('/').next().unwrap_or(&f.logical);
                    let _ = writeln!(
                        out,
                        "<text x=\"{:.1}\" y=\"{:.1}\" class=fl>{}</text>",
                        rect.x + 3.0,
                        rect.y + 12.0,
                        esc(&fit(name, rect.w))
                    );
                }
            }
            Item::Dir(name, d) => {
                let full = format!("{path}{name}/");
                if rect.w * rect.h < 0.5 {
                    continue;
                }
                let _ = writeln!(
                    out,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" class=\"dir\"><title>{} · {}</title></rect>",
                    rect.x,
                    rect.y,
                    rect.w,
                    rect.h,
                    esc(&full),
                    ui::bytes(d.total)
                );
                let labelled = rect.w > 48.0 && rect.h > 30.0;
                if labelled {
                    let _ = writeln!(
                        out,
                        "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                        rect.x + 3.0,
                        rect.y + 11.0,
                        esc(&fit(&full, rect.w))
                    );
                }
                let top = if labelled { 14.0 } else { 1.0 };
                let inner = Rect {
                    x: rect.x + 1.0,
                    y: rect.y + top,
                    w: rect.w - 2.0,
                    h: rect.h - top - 1.0,
                };
                if inner.w > 0.5 && inner.h > 0.5 {
                    draw_dir(out, files, d, &full, inner);
                }
            }
        }
    }
}

fn treemap_section(out: &mut String, files: &[File]) {
    let mut root = Dir::default();
    for (i, f) in files.iter().enumerate() {
        let parts: Vec<&str> = f.logical.split('/').collect();
        root.insert(&parts, i, f.size);
    }
    out.push_str(
        "<section id=map><h2>Treemap</h2><p>Every file by its size; hover for its identity and best compressed size (with JavaScript, click for details). \
         Outlined: changed since the previous generation.</p><div class=legend>",
    );
    for (k, name) in KINDS.iter().enumerate() {
        let _ = write!(out, "<span><i class=\"sw k{k}\"></i>{name}</span>");
    }
    let _ = writeln!(
        out,
        "</div><svg id=treemap viewBox=\"0 0 {MAP_WIDTH} {MAP_HEIGHT}\" role=img aria-label=\"treemap of {} files by size\">",
        files.len()
    );
    draw_dir(
        out,
        files,
        &root,
        "",
        Rect {
            x: 0.0,
            y: 0.0,
            w: MAP_WIDTH,
            h: MAP_HEIGHT,
        },
    );
    out.push_str("</svg><div id=detail class=detail hidden></div></section>\n");
}

fn totals(out: &mut String, files: &[File], manifest: &Manifest) {
    out.push_str(
        "<section id=totals><h2>Totals</h2><div class=cols><div><h3>By type</h3><table><thead><tr><th>type</th><th>files</th><th>served</th><th>best coding</th><th>saved</th></tr></thead><tbody>",
    );
    let mut by_kind = [(0usize, 0u64, 0u64); KINDS.len()];
    for f in files {
        let t = &mut by_kind[f.kind];
        t.0 += 1;
        t.1 += f.size;
        t.2 += f.best;
    }
    for (k, (n, identity, best)) in by_kind.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let _ = write!(
            out,
            "<tr><td><i class=\"sw k{k}\"></i>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            KINDS[k],
            grouped(*n as u64),
            ui::bytes(*identity),
            ui::bytes(*best),
            saving(*identity, *best)
        );
    }
    let identity: u64 = files.iter().map(|f| f.size).sum();
    let best: u64 = files.iter().map(|f| f.best).sum();
    let _ = write!(
        out,
        "</tbody><tfoot><tr><td>all</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></tfoot></table></div>",
        grouped(files.len() as u64),
        ui::bytes(identity),
        ui::bytes(best),
        saving(identity, best)
    );
    out.push_str(
        "<div><h3>By coding</h3><table><thead><tr><th>coding</th><th>files</th><th>their identity</th><th>encoded</th><th>saved</th></tr></thead><tbody>",
    );
    for coding in ["br", "zstd", "gzip"] {
        let (mut n, mut identity, mut encoded) = (0u64, 0u64, 0u64);
        for e in manifest.entries.values() {
            if let Some(v) = e.variants.get(coding) {
                n += 1;
                identity += e.size;
                encoded += v.size;
            }
        }
        if n > 0 {
            let _ = write!(
                out,
                "<tr><td>{coding}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                grouped(n),
                ui::bytes(identity),
                ui::bytes(encoded),
                saving(identity, encoded)
            );
        }
    }
    let plain: Vec<&assetc_core::Entry> = manifest
        .entries
        .values()
        .filter(|e| e.variants.is_empty())
        .collect();
    let _ = writeln!(
        out,
        "<tr><td>identity only</td><td>{}</td><td>{}</td><td>—</td><td>—</td></tr></tbody></table></div></div></section>",
        grouped(plain.len() as u64),
        ui::bytes(plain.iter().map(|e| e.size).sum()),
    );
}

/// What a first visit to `start` downloads: `(file, depth)` breadth first, following every
/// reference except those to other pages (links are navigations, not downloads).
fn visit(files: &[File], start: usize) -> Vec<(usize, usize)> {
    let mut depth = vec![usize::MAX; files.len()];
    depth[start] = 0;
    let mut queue = VecDeque::from([start]);
    let mut order = Vec::new();
    while let Some(i) = queue.pop_front() {
        order.push((i, depth[i]));
        for &t in &files[i].references {
            if depth[t] == usize::MAX && files[t].kind != 0 {
                depth[t] = depth[i] + 1;
                queue.push_back(t);
            }
        }
    }
    order
}

fn first_visit(out: &mut String, files: &[File], pages: &[usize], start: Option<usize>) {
    out.push_str("<section id=visit><h2>First visit</h2>");
    let Some(start) = start else {
        out.push_str("<p>This build has no HTML pages.</p></section>\n");
        return;
    };
    let order = visit(files, start);
    let bytes: u64 = order.iter().map(|&(i, _)| files[i].best).sum();
    let depth = order.iter().map(|&(_, d)| d).max().unwrap_or(0);
    let _ = write!(
        out,
        "<p>What a browser with an empty cache downloads for a page (in its best coding), and how many references deep: \
         links to other pages are not followed.</p>\
         <p class=js-only hidden><label>page <select id=page>"
    );
    for &p in pages {
        let selected = if p == start { " selected" } else { "" };
        let _ = write!(
            out,
            "<option value=\"{p}\"{selected}>{}</option>",
            esc(&files[p].logical)
        );
    }
    let _ = write!(
        out,
        "</select></label></p><p id=visit-summary>A first visit to <b>{}</b> downloads {} file{}, {}, {} level{} deep.</p>\
         <div class=graph-wrap><svg id=graph class=js-only hidden role=img aria-label=\"reference graph of the chosen page\"></svg></div>\
         <table id=visit-table><thead><tr><th>depth</th><th>file</th><th>served</th><th>best</th><th>coding</th></tr></thead><tbody>",
        esc(&files[start].logical),
        grouped(order.len() as u64),
        if order.len() == 1 { "" } else { "s" },
        ui::bytes(bytes),
        depth,
        if depth == 1 { "" } else { "s" }
    );
    for (i, d) in order {
        let f = &files[i];
        let _ = write!(
            out,
            "<tr><td>{d}</td><td><i class=\"sw k{}\"></i>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            f.kind,
            esc(&f.logical),
            esc(&f.served),
            ui::bytes(f.best),
            f.coding
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn changed(
    out: &mut String,
    changes: Option<&Changes>,
    comparison: Option<&Comparison>,
    cx: &About<'_>,
) {
    out.push_str("<section id=changed><h2>Changed since the previous generation</h2>");
    let (Some(c), Some(comparison)) = (changes, comparison) else {
        let why = match &cx.previous {
            Previous::Unreadable(id) => format!(
                "The previous generation's manifest (<code>{}</code>) cannot be read: <code>assetc verify</code> says why.",
                esc(id)
            ),
            _ => "This build keeps no previous generation to compare with.".to_owned(),
        };
        let _ = writeln!(out, "<p>{why}</p></section>");
        return;
    };
    let _ = write!(
        out,
        "<p>Generation <code>{}</code> since <code>{}</code>: ",
        esc(&c.generations.new),
        esc(&c.generations.old)
    );
    if c.renamed.is_empty() {
        out.push_str("nothing renamed");
    } else {
        let _ = write!(
            out,
            "<b>{} file{} renamed</b>: a returning visitor downloads <b>{}</b> again ({} bytes, best codings)",
            grouped(c.renamed.len() as u64),
            if c.renamed.len() == 1 { "" } else { "s" },
            ui::bytes(c.bytes),
            grouped(c.bytes)
        );
    }
    let _ = write!(
        out,
        "; {} revalidated with new bytes ({}); {} added, {} removed. The same as <code>assetc explain --changed</code>.</p>",
        grouped(c.revalidated.len() as u64),
        ui::bytes(c.revalidated_bytes),
        grouped(c.added.len() as u64),
        grouped(c.removed.len() as u64)
    );
    for g in &c.groups {
        let _ = write!(
            out,
            "<details class=cause open><summary><b>{}</b> — {} renamed ({}), {} revalidated ({})</summary>",
            esc(&cause_text(&g.cause)),
            grouped(g.renamed.len() as u64),
            ui::bytes(g.bytes),
            grouped(g.revalidated.len() as u64),
            ui::bytes(g.revalidated_bytes)
        );
        out.push_str("<table><thead><tr><th>file</th><th>served as</th><th>best</th><th>why</th></tr></thead><tbody>");
        let listed = g
            .renamed
            .iter()
            .map(|d| (d, "renamed"))
            .chain(g.revalidated.iter().map(|d| (d, "new bytes")));
        let total = g.renamed.len() + g.revalidated.len();
        for (d, what) in listed.take(LISTED_PER_CAUSE) {
            let why = comparison
                .explain(&d.path)
                .map(|e| explanation_text(&e))
                .unwrap_or_default();
            let _ = write!(
                out,
                "<tr><td>{}<br><small>{what}</small></td><td><code>{}</code></td><td>{} {}</td><td><details><summary>chain</summary><pre>{}</pre></details></td></tr>",
                esc(&d.path),
                esc(&d.served),
                ui::bytes(d.size),
                d.coding,
                esc(&why)
            );
        }
        out.push_str("</tbody></table>");
        if total > LISTED_PER_CAUSE {
            let _ = write!(
                out,
                "<p>and {} more: <code>assetc explain --changed</code> lists them all.</p>",
                grouped((total - LISTED_PER_CAUSE) as u64)
            );
        }
        out.push_str("</details>");
    }
    out.push_str("</section>\n");
}

fn file_table(out: &mut String, files: &[File], rows: &[usize]) {
    out.push_str("<table><thead><tr><th>file</th><th>served</th><th>best</th><th>saved</th></tr></thead><tbody>");
    for &i in rows {
        let f = &files[i];
        let _ = write!(
            out,
            "<tr><td><i class=\"sw k{}\"></i>{}</td><td>{}</td><td>{} {}</td><td>{}</td></tr>",
            f.kind,
            esc(&f.logical),
            ui::bytes(f.size),
            ui::bytes(f.best),
            f.coding,
            saving(f.size, f.best)
        );
    }
    out.push_str("</tbody></table>");
}

fn largest(out: &mut String, files: &[File]) {
    let mut rows: Vec<usize> = (0..files.len()).collect();
    rows.sort_by(|&a, &b| files[b].size.cmp(&files[a].size).then(a.cmp(&b)));
    rows.truncate(TOP);
    out.push_str("<section id=largest><h2>Largest files</h2>");
    file_table(out, files, &rows);
    out.push_str("</section>\n");
}

fn incompressible(out: &mut String, files: &[File]) {
    // At least 1 KiB, and no coding saves a tenth of it.
    let mut rows: Vec<usize> = (0..files.len())
        .filter(|&i| files[i].size >= 1024 && files[i].best * 10 > files[i].size * 9)
        .collect();
    let count = rows.len();
    let bytes: u64 = rows.iter().map(|&i| files[i].size).sum();
    rows.sort_by(|&a, &b| files[b].size.cmp(&files[a].size).then(a.cmp(&b)));
    rows.truncate(TOP);
    let _ = write!(
        out,
        "<section id=incompressible><h2>Compression does not help</h2><p>{} file{} of 1 KiB or more, {} in all, that no coding makes a tenth smaller \
         (already compressed formats: images, fonts, archives). Smaller bytes here come from the files themselves.</p>",
        grouped(count as u64),
        if count == 1 { "" } else { "s" },
        ui::bytes(bytes)
    );
    if count > 0 {
        file_table(out, files, &rows);
    }
    out.push_str("</section>\n");
}

/// The data the script reads: every file as
/// `[logical, served, size, best, coding, kind, entry point, status, [references]]`, the
/// pages, the page shown first, and the reasons of changed files (`why`).
fn page_data(
    files: &[File],
    pages: &[usize],
    start: Option<usize>,
    comparison: Option<&Comparison>,
) -> String {
    let mut why = serde_json::Map::new();
    if let Some(c) = comparison {
        for (i, f) in files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.status != 0)
            .take(REASONS_KEPT)
        {
            if let Some(change) = c.files.get(&f.logical) {
                let reasons: Vec<String> =
                    change.reasons.iter().map(|r| reason_text(r).0).collect();
                why.insert(i.to_string(), serde_json::json!(reasons));
            }
        }
    }
    let data = serde_json::json!({
        "kinds": KINDS,
        "files": files.iter().map(|f| serde_json::json!([
            f.logical, f.served, f.size, f.best, f.coding, f.kind, u8::from(f.entry_point), f.status, f.references
        ])).collect::<Vec<_>>(),
        "pages": pages,
        "start": start,
        "why": why,
    });
    // Inside <script type="application/json">: no `<` may close it early.
    serde_json::to_string(&data)
        .expect("the report's data serialises")
        .replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squarified_rectangles_fill_the_area_in_proportion() {
        let values = [6.0, 6.0, 4.0, 3.0, 2.0, 2.0, 1.0];
        let r = Rect {
            x: 0.0,
            y: 0.0,
            w: 6.0,
            h: 4.0,
        };
        let rects = squarify(&values, r);
        assert_eq!(rects.len(), values.len());
        for (v, rect) in values.iter().zip(&rects) {
            assert!((rect.w * rect.h - v).abs() < 1e-9, "{v}: {rect:?}");
            assert!(rect.x >= -1e-9 && rect.y >= -1e-9);
            assert!(rect.x + rect.w <= 6.0 + 1e-9 && rect.y + rect.h <= 4.0 + 1e-9);
        }
        // The paper's example: the first row is the two 6s, stacked at the left.
        assert!((rects[0].w - 3.0).abs() < 1e-9 && (rects[0].h - 2.0).abs() < 1e-9);
    }

    #[test]
    fn placeholders_are_filled_once_and_values_are_not_scanned() {
        assert_eq!(
            fill("<a>{{A}}</a>{{B}}", &[("A", "{{B}}"), ("B", "x")]),
            "<a>{{B}}</a>x"
        );
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13 UTC");
    }
}
