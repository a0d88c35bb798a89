//! `assetc verify` and `assetc clean`: checking and trimming a build directory.

use std::process::ExitCode;

use anyhow::Context;
use assetc_pipeline::maintain;

use crate::cli::{CleanArgs, VerifyArgs};
use crate::config::Config;
use crate::settings::{build_root, keep, keep_age, now};
use crate::ui;

pub fn verify(args: VerifyArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let root = build_root(args.root.as_deref(), config);
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
            "`{}`: {} missing, {} corrupted, {} extra of {} files\nhint: rebuild, or copy the build again",
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
    let root = build_root(args.root.as_deref(), config);
    let keep = keep(args.keep, config);
    let age = keep_age(args.age.as_deref(), config)?;
    let report = maintain::clean(&root, keep, age, now(), args.dry_run)
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
