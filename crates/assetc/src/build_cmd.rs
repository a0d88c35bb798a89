//! `assetc build`: options from flags, `assetc.toml` and `SOURCE_DATE_EPOCH`, then the
//! pipeline, then warnings and a one-line summary on stderr.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use assetc_pipeline::{build, BuildError, BuildOptions};

use crate::cli::BuildArgs;
use crate::config::Config;
use crate::ui;

pub fn run(args: BuildArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let c = &config.build;
    let options = BuildOptions {
        input: args
            .input
            .or_else(|| c.input.clone())
            .unwrap_or_else(|| PathBuf::from("assets")),
        output: args
            .output
            .or_else(|| c.output.clone())
            .unwrap_or_else(|| PathBuf::from("build")),
        base_url: args
            .base_url
            .or_else(|| c.base_url.clone())
            .unwrap_or_else(|| "/".into()),
        strict: args.strict || c.strict.unwrap_or(false),
        include: if args.include.is_empty() {
            c.include.clone()
        } else {
            args.include
        },
        exclude: c.exclude.iter().cloned().chain(args.exclude).collect(),
        entry_points: c
            .entry_points
            .iter()
            .cloned()
            .chain(args.entry_point)
            .collect(),
        build_time: build_time()?,
    };
    let started = Instant::now();
    let report = match build(&options) {
        Ok(report) => report,
        Err(BuildError::Strict { warnings }) => {
            for w in &warnings {
                ui::warning(&w.to_string());
            }
            ui::error(&format!(
                "build failed: {} warning{} with `--strict`; the previous build in `{}` is unchanged",
                warnings.len(),
                if warnings.len() == 1 { "" } else { "s" },
                options.output.display()
            ));
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "build of `{}` failed; `{}` is unchanged",
                    options.input.display(),
                    options.output.display()
                )
            })
        }
    };
    for w in &report.warnings {
        ui::warning(&w.to_string());
    }
    let elapsed = started.elapsed();
    if args.json {
        let json = serde_json::json!({
            "input": options.input,
            "output": options.output,
            "report": report,
            "seconds": elapsed.as_secs_f64(),
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    }
    if !args.quiet {
        eprintln!(
            "built {} files ({} fingerprinted, {} entry points), {}, {} warning{} in {:.2}s{} → `{}`",
            report.files,
            report.fingerprinted,
            report.entry_points,
            ui::bytes(report.bytes),
            report.warnings.len(),
            if report.warnings.len() == 1 { "" } else { "s" },
            elapsed.as_secs_f64(),
            if report.changed { "" } else { " (unchanged)" },
            options.output.display(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `SOURCE_DATE_EPOCH` when set (reproducible builds), else the clock.
fn build_time() -> anyhow::Result<i64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => value
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|&t| t >= 0)
            .with_context(|| {
                format!(
                    "`SOURCE_DATE_EPOCH` must be a non-negative number of seconds, not `{value}`"
                )
            }),
        Err(_) => Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)),
    }
}
