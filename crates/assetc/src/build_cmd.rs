//! `assetc build`: options from flags, `assetc.toml` and `SOURCE_DATE_EPOCH`, then the
//! pipeline, then warnings and a one-line summary on stderr.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use assetc_pipeline::compress::{Coding, CompressOptions};
use assetc_pipeline::{build_with_progress, BuildError, BuildOptions};

use crate::cli::BuildArgs;
use crate::config::Config;
use crate::ui;

pub fn run(args: BuildArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let options = options(&args, config)?;
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
            "built {} files ({} fingerprinted, {} entry points), {}{}, {} warning{} in {:.2}s{} → `{}`",
            report.files,
            report.fingerprinted,
            report.entry_points,
            ui::bytes(report.bytes),
            if saved > 0 { format!(" (br saves {})", ui::bytes(saved)) } else { String::new() },
            report.warnings.len(),
            if report.warnings.len() == 1 { "" } else { "s" },
            elapsed.as_secs_f64(),
            if report.changed { String::new() } else { " (unchanged)".into() },
            options.output.display(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A build's options from the flags, `assetc.toml` and the environment.
pub fn options(args: &BuildArgs, config: &Config) -> anyhow::Result<BuildOptions> {
    let c = &config.build;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut compress = CompressOptions::default();
    if let Some(list) = args.codings.as_deref() {
        compress.codings = parse_codings(list.split(',').map(str::trim).filter(|s| !s.is_empty()))?;
    } else if let Some(list) = &c.codings {
        compress.codings = parse_codings(list.iter().map(String::as_str))?;
    }
    if let Some(size) = c.compress_min_size {
        compress.min_size = size;
    }
    if let Some(saving) = c.compress_min_saving {
        if !(0.0..1.0).contains(&saving) {
            bail!("`compress_min_saving` must be at least 0 and below 1, not `{saving}`");
        }
        compress.min_saving = saving;
    }
    let keep_age = match args.keep_age.as_deref().or(c.keep_age.as_deref()) {
        Some(text) => parse_duration(text)?,
        None => 3600,
    };
    Ok(BuildOptions {
        input: args
            .input
            .clone()
            .or_else(|| c.input.clone())
            .unwrap_or_else(|| PathBuf::from("assets")),
        output: args
            .output
            .clone()
            .or_else(|| c.output.clone())
            .unwrap_or_else(|| PathBuf::from("build")),
        base_url: args
            .base_url
            .clone()
            .or_else(|| c.base_url.clone())
            .unwrap_or_else(|| "/".into()),
        strict: args.strict || c.strict.unwrap_or(false),
        include: if args.include.is_empty() {
            c.include.clone()
        } else {
            args.include.clone()
        },
        exclude: c.exclude.iter().chain(&args.exclude).cloned().collect(),
        entry_points: c
            .entry_points
            .iter()
            .chain(&args.entry_point)
            .cloned()
            .collect(),
        already_hashed: c
            .already_hashed
            .iter()
            .chain(&args.already_hashed)
            .cloned()
            .collect(),
        ignore_references: c
            .ignore_references
            .iter()
            .chain(&args.ignore_reference)
            .cloned()
            .collect(),
        sri: args.sri || c.sri.unwrap_or(false),
        compress,
        build_time: build_time(now)?,
        now,
        keep: args.keep.or(c.keep).unwrap_or(2),
        keep_age,
        threads: args.jobs,
        inject_html: None,
    })
}

fn parse_codings<'a>(names: impl Iterator<Item = &'a str>) -> anyhow::Result<Vec<Coding>> {
    let mut codings = Vec::new();
    for name in names {
        if name.eq_ignore_ascii_case("none") {
            continue;
        }
        match Coding::from_token(name.as_bytes()) {
            Some(c) if !codings.contains(&c) => codings.push(c),
            Some(_) => {}
            None => {
                bail!("unknown coding `{name}`; hint: choose from `br`, `zstd`, `gzip`, or `none`")
            }
        }
    }
    Ok(codings)
}

/// `90s`, `30m`, `1h`, `2d`, `1w`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> anyhow::Result<i64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().with_context(|| {
        format!("invalid duration `{text}`; hint: write e.g. `90s`, `30m`, `1h`, `2d`")
    })?;
    let scale = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => bail!("invalid duration `{text}`; hint: write e.g. `90s`, `30m`, `1h`, `2d`"),
    };
    Ok(n.saturating_mul(scale))
}

/// `SOURCE_DATE_EPOCH` when set (reproducible builds), else the clock.
fn build_time(now: i64) -> anyhow::Result<i64> {
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
        Err(_) => Ok(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), 90);
        assert_eq!(parse_duration("30m").unwrap(), 1800);
        assert_eq!(parse_duration("1h").unwrap(), 3600);
        assert_eq!(parse_duration("2d").unwrap(), 172_800);
        assert_eq!(parse_duration("45").unwrap(), 45);
        assert!(parse_duration("1y").is_err() && parse_duration("h").is_err());
    }
}
