//! `assetc dev`: build into a private directory, serve it with `Cache-Control: no-store`,
//! rebuild when the input changes (a burst of changes is one rebuild), and tell open pages
//! over server-sent events: reload, swap a stylesheet, or show a build error.

use std::net::ToSocketAddrs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, HttpResponse};
use anyhow::Context;
use assetc_core::{fingerprint, Manifest};
use assetc_pipeline::compress::CompressOptions;
use assetc_pipeline::{build, BuildError, BuildOptions};
use assetc_server::{Build, Mount, Options};
use notify::{RecursiveMode, Watcher};
use tokio::sync::broadcast;

use crate::cli::{BuildArgs, DevArgs};
use crate::config::Config;
use crate::{settings, ui};

/// Where the live-reload script and the event stream are served; never a path of the site.
const EVENTS_PATH: &str = "/__assetc/events";
const SCRIPT_PATH: &str = "/__assetc/live.js";

/// Changes that arrive within this quiet period of each other are one rebuild.
const DEBOUNCE: Duration = Duration::from_millis(120);
/// A continuous stream of changes still rebuilds at least this often.
const DEBOUNCE_MAX: Duration = Duration::from_secs(2);

/// The script every page gets in dev mode (injected by the HTML rewriter at build time); it
/// reads the event stream's path from its own `data-events` attribute.
const LIVE_SCRIPT: &str = include_str!("live.js");

/// What open pages are told.
#[derive(Clone, Debug)]
struct Hub {
    events: broadcast::Sender<String>,
    /// The current build error, sent to pages that connect while it lasts.
    error: Arc<Mutex<Option<String>>>,
}

impl Hub {
    fn send(&self, message: serde_json::Value) {
        let _ = self.events.send(message.to_string());
    }
}

pub fn run(args: DevArgs, config: &Config) -> anyhow::Result<std::process::ExitCode> {
    let input = args
        .input
        .clone()
        .or_else(|| config.build.input.clone())
        .unwrap_or_else(|| PathBuf::from(assetc_pipeline::build::options::DEFAULT_INPUT));
    let input = input
        .canonicalize()
        .with_context(|| format!("input directory `{}` does not exist", input.display()))?;
    let output = match args.output.clone() {
        Some(dir) => dir,
        // One directory per input, holding the build, so that two `assetc dev` for two
        // inputs never share the parent directory a build locks.
        None => std::env::temp_dir()
            .join(format!(
                "assetc-dev-{}",
                fingerprint(&assetc_core::fingerprint::sha256(
                    input.to_string_lossy().as_bytes()
                ))
            ))
            .join("build"),
    };
    // The production build's options from `assetc.toml`, with dev's own flags on top (a
    // dev build has exactly the names a production build gives).
    let build_args = BuildArgs {
        input: Some(input.clone()),
        output: Some(output.clone()),
        strict: args.strict,
        ..BuildArgs::default()
    };
    let mut options = settings::build_options(&build_args, config)?;
    // Development needs speed, not bandwidth: no precompression (names do not depend on it).
    options.compress = CompressOptions {
        codings: Vec::new(),
        dictionaries: 0,
        ..CompressOptions::default()
    };
    options.inject_html = Some(format!(
        "<script src=\"{SCRIPT_PATH}\" data-events=\"{EVENTS_PATH}\"></script>"
    ));
    options.keep = 1;
    options.keep_age = 0;

    let started = Instant::now();
    let report = build_reporting(&options)
        .with_context(|| format!("the first build of `{}` failed", input.display()))?;
    eprintln!(
        "built {} in {:.2}s into `{}`",
        report,
        started.elapsed().as_secs_f64(),
        output.display()
    );

    let server_options = Options {
        cache_control_immutable: "no-store".into(),
        cache_control_revalidate: "no-store".into(),
        // Nothing is cached in development: a dictionary could never be used.
        dictionaries: false,
        ..Options::default()
    };
    let served = Build::open(&output, &server_options)
        .with_context(|| format!("cannot serve `{}`", output.display()))?;
    let mount = Mount::new("/", served);
    let hub = Hub {
        events: broadcast::channel(64).0,
        error: Arc::new(Mutex::new(None)),
    };

    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            if !matches!(event.kind, notify::EventKind::Access(_)) {
                let _ = tx.send(event.paths);
            }
        }
    })
    .context("cannot watch the input for changes")?;
    watcher
        .watch(&input, RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch `{}`", input.display()))?;
    eprintln!("watching `{}` for changes", input.display());
    {
        let (mount, hub, options, server_options) = (
            mount.clone(),
            hub.clone(),
            options.clone(),
            server_options.clone(),
        );
        std::thread::spawn(move || rebuild_loop(&rx, &options, &server_options, &mount, &hub));
    }

    let bind = args.bind.clone().unwrap_or_else(|| "127.0.0.1:8080".into());
    let addrs: Vec<_> = bind
        .to_socket_addrs()
        .with_context(|| format!("`{bind}` is not an address to listen on (expected HOST:PORT)"))?
        .collect();
    actix_web::rt::System::new().block_on(async move {
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(web::Data::new(hub.clone()))
                .route(EVENTS_PATH, web::get().to(events))
                .route(SCRIPT_PATH, web::get().to(script))
                .service(mount.clone())
        })
        .workers(2)
        .shutdown_timeout(1)
        .bind(&addrs[..])
        .with_context(|| format!("cannot listen on `{bind}`"))?;
        for addr in server.addrs() {
            eprintln!("listening on http://{addr}");
        }
        server.run().await.context("the server failed")
    })?;
    drop(watcher);
    Ok(std::process::ExitCode::SUCCESS)
}

/// Builds, printing warnings; returns a short summary or the error.
fn build_reporting(options: &BuildOptions) -> anyhow::Result<String> {
    match build(options) {
        Ok(report) => {
            for w in &report.warnings {
                ui::warning(&w.to_string());
            }
            Ok(format!("{} files", report.files))
        }
        Err(BuildError::Strict { warnings }) => {
            let lines: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
            anyhow::bail!(
                "{} warning{} with `--strict`:\n{}",
                lines.len(),
                if lines.len() == 1 { "" } else { "s" },
                lines.join("\n")
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// Waits for changes, lets a burst settle, rebuilds once, swaps the served build and
/// tells the pages.
fn rebuild_loop(
    rx: &mpsc::Receiver<Vec<PathBuf>>,
    options: &BuildOptions,
    server_options: &Options,
    mount: &Mount,
    hub: &Hub,
) {
    // The served build's manifest, to tell the pages what a rebuild changed (the server
    // keeps only what requests read).
    let mut before = served_manifest(&options.output);
    while let Ok(first) = rx.recv() {
        let mut changed = first;
        let burst_started = Instant::now();
        while burst_started.elapsed() < DEBOUNCE_MAX {
            match rx.recv_timeout(DEBOUNCE) {
                Ok(paths) => changed.extend(paths),
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
        let started = Instant::now();
        let result = build_reporting(options)
            .and_then(|summary| Ok((summary, Build::open(&options.output, server_options)?)));
        match result {
            Ok((summary, new)) => {
                let after = served_manifest(&options.output);
                let message = change_message(&before, &after, &changed, &options.input);
                before = after;
                mount.replace(new);
                let had_error = hub
                    .error
                    .lock()
                    .map(|mut e| e.take().is_some())
                    .unwrap_or(false);
                eprintln!(
                    "rebuilt in {:.2}s ({summary}, {} changed paths)",
                    started.elapsed().as_secs_f64(),
                    changed.len()
                );
                hub.send(if had_error {
                    serde_json::json!({"type": "reload"})
                } else {
                    message
                });
            }
            Err(error) => {
                let text = format!("{error:#}");
                ui::error(&format!(
                    "rebuild failed; still serving the last good build: {text}"
                ));
                if let Ok(mut e) = hub.error.lock() {
                    *e = Some(text.clone());
                }
                hub.send(serde_json::json!({"type": "error", "message": text}));
            }
        }
    }
}

/// The manifest of the build in `output`; an empty one when it cannot be read (the next
/// change message then says to reload the page).
fn served_manifest(output: &Path) -> Manifest {
    std::fs::read(output.join(assetc_core::MANIFEST_FILE_NAME))
        .ok()
        .and_then(|bytes| Manifest::from_json(&bytes).ok())
        .unwrap_or_else(|| Manifest::new("/"))
}

/// `css` with old → new stylesheet URLs when only stylesheets changed, else `reload`.
fn change_message(
    before: &Manifest,
    after: &Manifest,
    changed: &[PathBuf],
    input: &Path,
) -> serde_json::Value {
    let only_css = !changed.is_empty()
        && changed.iter().all(|p| {
            p.strip_prefix(input).is_ok()
                && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("css"))
        });
    if !only_css {
        return serde_json::json!({"type": "reload"});
    }
    let mut urls = serde_json::Map::new();
    for (logical, old) in &before.entries {
        if let Some(new) = after.entries.get(logical) {
            if logical.ends_with(".css") && old.path != new.path {
                urls.insert(
                    format!("/{}", old.path),
                    serde_json::Value::String(format!("/{}", new.path)),
                );
            }
        }
    }
    serde_json::json!({"type": "css", "urls": urls})
}

/// The live-reload script.
async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .body(LIVE_SCRIPT)
}

/// The event stream: one `data:` line per message, the current error first if there is one.
async fn events(hub: web::Data<Hub>) -> HttpResponse {
    let receiver = hub.events.subscribe();
    let pending = hub
        .error
        .lock()
        .ok()
        .and_then(|e| e.clone())
        .map(|m| serde_json::json!({"type": "error", "message": m}).to_string());
    let first = futures_util::stream::iter(
        std::iter::once("retry: 500\n\n".to_owned())
            .chain(pending.map(|m| format!("data: {m}\n\n")))
            .map(|s| Ok::<_, actix_web::Error>(web::Bytes::from(s))),
    );
    let rest = futures_util::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(message) => {
                    return Some((
                        Ok::<_, actix_web::Error>(web::Bytes::from(format!("data: {message}\n\n"))),
                        receiver,
                    ))
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-store"))
        .streaming(futures_util::StreamExt::chain(first, rest))
}
