//! `assetc serve`: load a build and serve it with actix-web until SIGTERM (graceful:
//! in-flight requests finish) or SIGINT. A new build swapped into the root is picked up
//! without a restart (noticed by a cheap poll of the root, or at once on SIGHUP); a broken
//! one is refused and logged while the old one keeps serving. Flags win over the `[serve]`
//! table of `assetc.toml`.

use std::net::ToSocketAddrs;

use anyhow::Context;
use assetc_server::{AccessLog, Build, Mount, Watcher};

use crate::cli::ServeArgs;
use crate::config::Config;
use crate::settings;

fn init_logging(access_log: AccessLog) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;

    let access = (access_log != AccessLog::Off).then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stdout)
            .without_time()
            .with_level(false)
            .with_target(false)
            .with_ansi(false)
            .with_filter(
                Targets::new().with_target(assetc_server::ACCESS_LOG_TARGET, LevelFilter::INFO),
            )
    });
    let diagnostics = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_ansi(false)
        .with_filter(
            Targets::new()
                .with_default(LevelFilter::WARN)
                .with_target(assetc_server::RELOAD_LOG_TARGET, LevelFilter::INFO)
                .with_target(assetc_server::ACCESS_LOG_TARGET, LevelFilter::OFF),
        );
    let _ = tracing_subscriber::registry()
        .with(access)
        .with(diagnostics)
        .try_init();
}

/// Runs `assetc serve` until the server stops.
pub fn run(args: ServeArgs, config: &Config) -> anyhow::Result<()> {
    let settings::Serve {
        root,
        bind,
        prefix,
        workers,
        access_log,
        options,
        shutdown_timeout,
        request_timeout,
        keep_alive,
        watch_interval,
    } = settings::serve(args, config)?;

    init_logging(access_log);
    let build = Build::open(&root, &options)
        .with_context(|| format!("cannot serve `{}`", root.display()))?;
    eprintln!(
        "serving `{}`: generation {} ({} URLs, {} older generations kept)",
        root.display(),
        build.generation(),
        build.route_count(),
        build.older_generations().len()
    );
    // Nothing wraps the mount, so its HTTP/1 heads can be written from prebuilt lines.
    let mount = Mount::new(&prefix, build)
        .access_log(access_log)
        .header_blocks(true);
    // Stopped when `run` returns, after the server.
    let watcher = Watcher::start(mount.clone(), watch_interval);
    let reload = watcher.handle();

    let addrs: Vec<_> = bind
        .to_socket_addrs()
        .with_context(|| format!("`{bind}` is not an address to listen on (expected HOST:PORT)"))?
        .collect();
    actix_web::rt::System::new().block_on(async move {
        // SIGHUP reloads (its default action would end the process): registered before
        // the server announces itself, so a deploy script can signal right after.
        #[cfg(unix)]
        {
            use actix_web::rt::signal::unix::{signal, SignalKind};
            let mut hangups = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
            actix_web::rt::spawn(async move {
                while hangups.recv().await.is_some() {
                    reload.reload();
                }
            });
        }
        #[cfg(not(unix))]
        drop(reload);
        // At the root the mount answers every request target, so it is the App's default
        // service: reached without the router's prefix match (1.9 % of a 304's profile).
        let at_root = prefix.trim_end_matches('/').is_empty();
        let server = actix_web::HttpServer::new(move || {
            let fallback = mount.clone();
            // Under a prefix, targets the mount does not match (`*`, authority-form, other
            // paths) get the mount's own answer (400, 404, or 405 with Allow) instead of
            // actix-web's bare 404 without Date or Cache-Control.
            let answer = actix_web::dev::fn_service(move |req: actix_web::dev::ServiceRequest| {
                let res = fallback.respond(req.request());
                std::future::ready(Ok::<_, actix_web::Error>(req.into_response(res)))
            });
            let app = actix_web::App::new();
            if at_root {
                app.default_service(answer)
            } else {
                app.service(mount.clone()).default_service(answer)
            }
        })
        .workers(workers)
        .shutdown_timeout(shutdown_timeout)
        .client_request_timeout(request_timeout)
        .keep_alive(keep_alive)
        // Files on disk go out with sendfile(2) after a head sent with MSG_MORE: without
        // TCP_NODELAY, Nagle held a body's last partial segment until the client's delayed
        // ACK (p99 40 ms against nginx's 6 ms for a 100 KB file). nginx sets it too.
        .tcp_nodelay(true)
        .bind(&addrs[..])
        .with_context(|| format!("cannot listen on `{bind}`"))?;
        for addr in server.addrs() {
            eprintln!("listening on http://{addr}");
        }
        server.run().await.context("the server failed")
    })?;
    drop(watcher);
    Ok(())
}
