//! `assetc build`: the pipeline with the options `settings` gives, then warnings and a
//! one-line summary on stderr (and `--json` on stdout).

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use assetc_pipeline::{build_with_progress, BuildError};

use crate::cli::BuildArgs;
use crate::config::Config;
use crate::{settings, ui};

pub fn run(args: BuildArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let options = settings::build_options(&args, config)?;
    let started = Instant::now();
    let progress = ui::BuildProgress::new(!args.quiet);
    let result = build_with_progress(&options, &progress);
    progress.finish();
    let report = match result {
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
    for n in &report.notes {
        ui::note(&n.to_string());
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
        let saved: u64 = report.variants.get("br").map_or(0, |t| {
            t.identity_bytes - t.encoded_bytes.min(t.identity_bytes)
        });
        eprintln!(
            "built {} files ({} fingerprinted, {} entry points), {}{}, {} warning{}{} in {:.2}s{} → `{}`",
            report.files,
            report.fingerprinted,
            report.entry_points,
            ui::bytes(report.bytes),
            if saved > 0 { format!(" (br saves {})", ui::bytes(saved)) } else { String::new() },
            report.warnings.len(),
            if report.warnings.len() == 1 { "" } else { "s" },
            match report.notes.len() {
                0 => String::new(),
                1 => ", 1 note".into(),
                n => format!(", {n} notes"),
            },
            elapsed.as_secs_f64(),
            if report.changed { String::new() } else { " (unchanged)".into() },
            options.output.display(),
        );
    }
    Ok(ExitCode::SUCCESS)
}
