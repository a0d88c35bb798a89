//! `assetc verify` and `assetc clean`: checking and trimming a build directory.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use assetc_pipeline::maintain;

use crate::build_cmd::parse_duration;
use crate::cli::{CleanArgs, VerifyArgs};
use crate::config::Config;
use crate::ui;

/// The build directory a command reads: `--root`, else `[build] output`, else `build`.
fn root(flag: Option<PathBuf>, config: &Config) -> PathBuf {
    flag.or_else(|| config.build.output.clone())
        .unwrap_or_else(|| PathBuf::from("build"))
}

pub fn verify(args: VerifyArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let root = root(args.root, config);
    let report =
        maintain::verify(&root).with_context(|| format!("cannot verify `{}`", root.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    for path in &report.missing {
        ui::error(&format!("missing: `{path}`"));
    }
    for (path, reason) in &report.corrupted {
        ui::error(&format!("corrupted: `{path}`: {reason}"));
    }
    for path in &report.extra {
        ui::error(&format!("extra: `{path}` is listed by no kept generation"));
    }
    if report.ok() {
        eprintln!(
            "verified {} files in `{}`: all present and intact",
            report.checked,
            root.display()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "`{}`: {} missing, {} corrupted, {} extra of {} files; hint: rebuild, or copy the build again",
            root.display(),
            report.missing.len(),
            report.corrupted.len(),
            report.extra.len(),
            report.checked
        );
        Ok(ExitCode::FAILURE)
    }
}

pub fn clean(args: CleanArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let root = root(args.root, config);
    let keep = args.keep.or(config.build.keep).unwrap_or(2);
    let age = match args.age.as_deref().or(config.build.keep_age.as_deref()) {
        Some(text) => parse_duration(text)?,
        None => 3600,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let report = maintain::clean(&root, keep, age, now, args.dry_run)
        .with_context(|| format!("cannot clean `{}`", root.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    for path in &report.removed_files {
        eprintln!("{verb} {path}");
    }
    eprintln!(
        "{verb} {} generation{} ({} files, {}); kept {}",
        report.removed_generations.len(),
        if report.removed_generations.len() == 1 {
            ""
        } else {
            "s"
        },
        report.removed_files.len(),
        ui::bytes(report.removed_bytes),
        report.kept_generations.len()
    );
    Ok(ExitCode::SUCCESS)
}
