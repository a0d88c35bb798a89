//! `assetc publish`: plan against the bucket, then upload in the order that never breaks a
//! page: every fingerprinted object first, then (only once all of those are up) the pages,
//! then the manifest, then (with `--delete`) the keys no kept generation lists. An
//! interrupted or failed publish leaves at worst new objects nothing references yet; the
//! next run finishes the job.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use assetc_core::fingerprint::{hex, sha256};
use assetc_core::generations::retain;
use assetc_core::MANIFEST_FILE_NAME;
use assetc_pipeline::output::records::Records;
use assetc_pipeline::LogicalPaths;
use futures_util::{stream, StreamExt};
use serde::Serialize;

use crate::cli::PublishArgs;
use crate::config::Config;
use crate::publish::plan::{self, Action, Plan, Step};
use crate::publish::store::{self, Put, Store};
use crate::settings::{self, now};
use crate::ui;

/// What was done, for the summary and `--json`.
#[derive(Debug, Default, Serialize)]
struct Summary {
    uploaded: usize,
    uploaded_bytes: u64,
    refreshed: usize,
    skipped: usize,
    deleted: usize,
}

/// One failed request.
#[derive(Debug, Serialize)]
struct Failure {
    key: String,
    error: String,
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    to: String,
    endpoint: &'a str,
    dry_run: bool,
    plan: &'a Plan,
    summary: &'a Summary,
    errors: &'a [Failure],
}

pub fn run(args: PublishArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let json = args.json;
    let s = settings::publish(args, config)?;
    let records =
        Records::open(&s.root).with_context(|| format!("cannot publish `{}`", s.root.display()))?;
    let manifest_path = s.root.join(MANIFEST_FILE_NAME);
    let manifest_bytes = std::fs::read(&manifest_path)
        .with_context(|| format!("cannot read `{}`", manifest_path.display()))?;
    // The bytes uploaded as the manifest must be the manifest planned from.
    if assetc_core::Manifest::from_json(&manifest_bytes)
        .ok()
        .as_ref()
        != Some(&records.manifest)
    {
        bail!(
            "`{}` changed while it was read (a build finished); hint: run `assetc publish` again",
            manifest_path.display()
        );
    }
    let logical = if records.logical_paths() == LogicalPaths::None {
        Vec::new()
    } else {
        assetc_pipeline::logical_path_pairs(&records.manifest)
    };
    let wanted = plan::wanted(
        &records.manifest,
        &logical,
        &hex(&sha256(&manifest_bytes)),
        manifest_bytes.len() as u64,
        &s.policy,
        &s.prefix,
    );
    let kept = if s.delete {
        let kept = retain(records.generations.clone(), now(), s.keep, s.keep_age);
        let mut older = Vec::new();
        // The newest generation is the current build, whose keys `wanted` already holds.
        for g in kept.iter().skip(1) {
            older.push(records.generation_manifest(&g.id).with_context(|| {
                format!(
                    "cannot read kept generation `{}` of `{}`, so `--delete` cannot tell which keys it needs; hint: run `assetc verify --root {}`",
                    g.id,
                    s.root.display(),
                    s.root.display()
                )
            })?);
        }
        let all = wanted.0.iter().chain(&wanted.1).chain([&wanted.2]);
        Some(plan::kept_keys(all, &older, &s.policy, &s.prefix))
    } else {
        None
    };
    let store = Store::connect(&s.bucket, s.endpoint.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(publish(&s, &store, wanted, kept, json))
}

/// Plans against the bucket, then runs the plan (or, with `--dry-run`, prints it).
async fn publish(
    s: &settings::Publish,
    store: &Store,
    wanted: (Vec<plan::Want>, Vec<plan::Want>, plan::Want),
    kept: Option<std::collections::BTreeSet<String>>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let url = store.url(&s.prefix);
    let listed = store.list(&s.prefix).await.map_err(|e| {
        let hint = hint(&e, &s.bucket);
        anyhow::anyhow!(store::answer(&e)).context(format!(
            "cannot list `{url}` at `{}`{hint}",
            store.endpoint()
        ))
    })?;
    let present: Vec<&str> = wanted
        .0
        .iter()
        .chain(&wanted.1)
        .chain([&wanted.2])
        .map(|w| w.key.as_str())
        .filter(|k| listed.contains(*k))
        .collect();
    let heads: Vec<anyhow::Result<(String, Option<plan::Remote>)>> = stream::iter(present)
        .map(|key| async move { store.head(key).await.map(|r| (key.to_owned(), r)) })
        .buffer_unordered(s.jobs)
        .collect()
        .await;
    let mut remote = BTreeMap::new();
    for head in heads {
        if let (key, Some(r)) = head? {
            remote.insert(key, r);
        }
    }
    let plan = plan::plan(wanted, &remote, &listed, kept.as_ref());
    let mut summary = Summary::default();
    let mut errors = Vec::new();
    if s.dry_run {
        print_plan(&plan);
        for action in plan.actions() {
            count(&mut summary, action);
        }
        summary.deleted = plan.deletions.len();
    } else {
        let bar = ui::counter(
            plan.actions().filter(|a| a.step != Step::Skip).count() as u64
                + plan.deletions.len() as u64,
            !json,
        );
        // The order is the point: a phase starts only when the one before it succeeded.
        for phase in [
            &plan.assets[..],
            &plan.pages,
            std::slice::from_ref(&plan.manifest),
        ] {
            run_phase(
                store,
                &s.root,
                phase,
                s.jobs,
                &bar,
                &mut summary,
                &mut errors,
            )
            .await;
            if !errors.is_empty() {
                break;
            }
        }
        if errors.is_empty() {
            let results: Vec<(String, anyhow::Result<()>)> = stream::iter(&plan.deletions)
                .map(|key| async move { (key.clone(), store.delete(key).await) })
                .buffer_unordered(s.jobs)
                .collect()
                .await;
            for (key, result) in results {
                bar.inc(1);
                match result {
                    Ok(()) => summary.deleted += 1,
                    Err(e) => errors.push(failure(key, &e)),
                }
            }
        }
        bar.finish_and_clear();
    }
    if json {
        let report = Report {
            to: url.clone(),
            endpoint: store.endpoint(),
            dry_run: s.dry_run,
            plan: &plan,
            summary: &summary,
            errors: &errors,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    for failure in &errors {
        ui::report(&anyhow::anyhow!("{}", failure.error));
    }
    let verb = |done: &'static str, would: &'static str| if s.dry_run { would } else { done };
    eprintln!(
        "{} `{}` to `{url}`: {} {} ({}), {} {}, {} unchanged, {} {}",
        verb("published", "would publish"),
        s.root.display(),
        verb("uploaded", "would upload"),
        objects(summary.uploaded),
        ui::bytes(summary.uploaded_bytes),
        verb("refreshed", "would refresh"),
        summary.refreshed,
        summary.skipped,
        verb("deleted", "would delete"),
        summary.deleted,
    );
    if errors.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    bail!(
        "{} of {} requests failed; hint: run `assetc publish` again once the cause is fixed: it uploads only what is missing",
        errors.len(),
        errors.len() + summary.uploaded + summary.refreshed
    )
}

/// Runs one phase's actions, `jobs` at a time, recording what happened.
async fn run_phase(
    store: &Store,
    root: &Path,
    actions: &[Action],
    jobs: usize,
    bar: &indicatif::ProgressBar,
    summary: &mut Summary,
    errors: &mut Vec<Failure>,
) {
    let results: Vec<(&Action, anyhow::Result<Option<Put>>)> = stream::iter(actions)
        .filter(|a| std::future::ready(a.step != Step::Skip))
        .map(|action| async move { (action, execute(store, root, action).await) })
        .buffer_unordered(jobs)
        .collect()
        .await;
    summary.skipped += actions.iter().filter(|a| a.step == Step::Skip).count();
    for (action, result) in results {
        bar.inc(1);
        match result {
            Ok(Some(Put::Uploaded)) => {
                summary.uploaded += 1;
                summary.uploaded_bytes += action.want.size;
            }
            Ok(Some(Put::AlreadyThere)) => summary.skipped += 1,
            Ok(None) => summary.refreshed += 1,
            Err(e) => errors.push(failure(action.want.key.clone(), &e)),
        }
    }
}

/// One upload (Some) or refresh (None).
async fn execute(store: &Store, root: &Path, action: &Action) -> anyhow::Result<Option<Put>> {
    let want = &action.want;
    match &action.step {
        Step::Skip => Ok(None),
        Step::Refresh { etag, .. } => store.refresh(want, etag.as_deref()).await.map(|()| None),
        Step::Upload { .. } => {
            let path = root.join(&want.file);
            let bytes = std::fs::read(&path)
                .with_context(|| format!("cannot read `{}`", path.display()))?;
            // The bytes sent under a name are the bytes the manifest gave it, or nothing.
            if hex(&sha256(&bytes)) != want.sha256 {
                bail!(
                    "`{}` does not match the manifest; hint: rebuild, or run `assetc verify --root {}`",
                    path.display(),
                    root.display()
                );
            }
            store.put(want, bytes).await.map(Some)
        }
    }
}

fn failure(key: String, error: &anyhow::Error) -> Failure {
    Failure {
        key,
        error: format!("{error:#}"),
    }
}

/// What the plan would do, counted as a run counts it.
fn count(summary: &mut Summary, action: &Action) {
    match action.step {
        Step::Upload { .. } => {
            summary.uploaded += 1;
            summary.uploaded_bytes += action.want.size;
        }
        Step::Refresh { .. } => summary.refreshed += 1,
        Step::Skip => summary.skipped += 1,
    }
}

/// `--dry-run`: every change, in the order it would run.
fn print_plan(plan: &Plan) {
    for action in plan.actions() {
        let key = &action.want.key;
        match &action.step {
            Step::Upload { reason } => eprintln!(
                "would upload `{key}` ({}, {})",
                reason.as_str(),
                ui::bytes(action.want.size)
            ),
            Step::Refresh { headers, .. } => {
                eprintln!("would refresh `{key}` ({})", headers.join(", "))
            }
            Step::Skip => {}
        }
    }
    for key in &plan.deletions {
        eprintln!("would delete `{key}`");
    }
}

fn objects(n: usize) -> String {
    format!("{n} object{}", if n == 1 { "" } else { "s" })
}

/// A hint for the first request's failure: what the store's answer usually means.
fn hint(error: &object_store::Error, bucket: &str) -> String {
    let text = format!("{error:?}");
    if text.contains("NoSuchBucket") {
        format!("; hint: the bucket `{bucket}` does not exist: create it, or check `--to`")
    } else if text.contains("SignatureDoesNotMatch")
        || text.contains("InvalidAccessKeyId")
        || text.contains("AccessDenied")
        || text.contains("403")
    {
        "; hint: check `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (or the profile's credentials)"
            .to_owned()
    } else if text.contains("onnect") || text.contains("dns") || text.contains("imed out") {
        "; hint: check `--endpoint` (or `AWS_ENDPOINT_URL`) and that the store is running"
            .to_owned()
    } else {
        String::new()
    }
}
