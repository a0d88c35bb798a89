//! `assetc serve`: load a build and serve it with actix-web until SIGTERM (graceful:
//! in-flight requests finish) or SIGINT. A new build swapped into the root is picked up
//! without a restart (noticed by a cheap poll of the root, or at once on SIGHUP); a broken
//! one is refused and logged while the old one keeps serving. Flags win over the `[serve]`
//! table of `assetc.toml`.

use std::collections::BTreeMap;
use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use assetc_server::{AccessLog, Build, HeaderRule, Mount, Options, Watcher};
use serde::Deserialize;

const DEFAULT_ROOT: &str = "build";
const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Seconds a client has to send a whole request head after connecting (actix-web's default,
/// made explicit): a slow client (slowloris) is answered 408 and disconnected after it.
const DEFAULT_REQUEST_TIMEOUT: u64 = 5;
/// Seconds an idle keep-alive connection stays open between requests (actix-web's default).
const DEFAULT_KEEP_ALIVE: u64 = 5;

/// `assetc serve`
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Build directory to serve (made by `assetc build`) [default: build]
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:8080, or
    /// 0.0.0.0:$PORT when the `PORT` environment variable is set]
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,

    /// Worker threads [default: one per core]
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,

    /// Access log on stdout [default: off]
    #[arg(long, value_name = "FORMAT")]
    pub access_log: Option<AccessLogFormat>,

    /// Serve this page (a logical path such as `index.html`) for unknown extension-less
    /// paths: client-side routes of a single-page app
    #[arg(long, value_name = "PATH")]
    pub spa_fallback: Option<String>,

    /// Serve `about.html` at `/about`
    #[arg(long)]
    pub clean_urls: bool,

    /// Answer `200 ok` at this path for load balancers (e.g. `/healthz`)
    #[arg(long, value_name = "PATH")]
    pub health_path: Option<String>,

    /// Seconds in-flight requests get to finish after SIGTERM [default: 30]
    #[arg(long, value_name = "SECS")]
    pub shutdown_timeout: Option<u64>,

    /// Seconds a client has to send its request head after connecting; a slower one is
    /// answered 408 and disconnected [default: 5]
    #[arg(long, value_name = "SECS")]
    pub request_timeout: Option<u64>,

    /// Seconds an idle keep-alive connection is kept open; 0 closes every connection after
    /// its response [default: 5]
    #[arg(long, value_name = "SECS")]
    pub keep_alive: Option<u64>,

    /// How often to look for a new build at the root, e.g. `1s` or `250ms` [default: 1s]
    #[arg(long, value_name = "DURATION")]
    pub watch_interval: Option<String>,

    /// Do not look for new builds; reload only on SIGHUP
    #[arg(long)]
    pub no_watch: bool,
}

/// The access log's format.
#[derive(clap::ValueEnum, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AccessLogFormat {
    Off,
    Common,
    Json,
}

/// `[serve]` in `assetc.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    pub root: Option<PathBuf>,
    pub bind: Option<String>,
    pub workers: Option<usize>,
    pub access_log: Option<AccessLogFormat>,
    /// `Cache-Control` of fingerprinted URLs [default: `public, max-age=31536000, immutable`].
    pub cache_control_immutable: Option<String>,
    /// `Cache-Control` of entry points [default: `no-cache`].
    pub cache_control_revalidate: Option<String>,
    /// Bytes of small files kept in memory [default: 64 MiB].
    pub memory_budget: Option<u64>,
    /// Files above this size always stream from disk [default: 256 KiB].
    pub memory_file_limit: Option<u64>,
    pub spa_fallback: Option<String>,
    pub clean_urls: Option<bool>,
    pub health_path: Option<String>,
    pub shutdown_timeout: Option<u64>,
    /// Seconds a client has to send its request head [default: 5].
    pub request_timeout: Option<u64>,
    /// Seconds an idle keep-alive connection is kept open; 0 turns keep-alive off [default: 5].
    pub keep_alive: Option<u64>,
    /// Look for new builds at the root [default: true].
    pub watch: Option<bool>,
    /// How often, e.g. `"1s"` or `"250ms"` [default: `"1s"`].
    pub watch_interval: Option<String>,
    /// `[[serve.headers]]`: `path = "/fonts/**"` and `headers = { "Access-Control-Allow-Origin" = "*" }`.
    pub headers: Vec<HeaderRuleConfig>,
}

/// One `[[serve.headers]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderRuleConfig {
    /// A glob over URL paths (`/**`, `/fonts/*.woff2`).
    pub path: String,
    pub headers: BTreeMap<String, String>,
}

/// Where to listen: the flag, else `PORT` (as platforms set it), else the config, else the
/// default.
fn bind_address(
    flag: Option<&str>,
    port_env: Option<&str>,
    config: Option<&str>,
) -> anyhow::Result<String> {
    if let Some(bind) = flag {
        return Ok(bind.to_owned());
    }
    if let Some(port) = port_env.filter(|p| !p.is_empty()) {
        let port: u16 = port.parse().with_context(|| {
            format!("the `PORT` environment variable `{port}` is not a port number")
        })?;
        return Ok(format!("0.0.0.0:{port}"));
    }
    Ok(config.unwrap_or(DEFAULT_BIND).to_owned())
}

/// The request-head timeout and the keep-alive setting from `--request-timeout` and
/// `--keep-alive` (or their `[serve]` keys). A zero request timeout is refused: actix-web
/// would read it as "no limit", letting any client hold a connection forever.
fn connection_timeouts(
    request_timeout: Option<u64>,
    keep_alive: Option<u64>,
) -> anyhow::Result<(Duration, actix_web::http::KeepAlive)> {
    let request_timeout = match request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT) {
        0 => anyhow::bail!(
            "`--request-timeout` must be at least 1 second; without one a slow client could hold a connection forever"
        ),
        secs => Duration::from_secs(secs),
    };
    let keep_alive = match keep_alive.unwrap_or(DEFAULT_KEEP_ALIVE) {
        0 => actix_web::http::KeepAlive::Disabled,
        secs => actix_web::http::KeepAlive::Timeout(Duration::from_secs(secs)),
    };
    Ok((request_timeout, keep_alive))
}

/// `250ms`, `2s`, or a bare number of seconds: how often the root is looked at.
fn parse_interval(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let hint = || format!("invalid interval `{text}`; hint: write e.g. `1s` or `250ms`");
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().with_context(hint)?;
    let interval = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        _ => anyhow::bail!(hint()),
    };
    if interval.is_zero() {
        anyhow::bail!(
            "the watch interval must be more than zero; use `--no-watch` to turn watching off"
        );
    }
    Ok(interval)
}

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
pub fn run(args: ServeArgs, config: &crate::config::Config) -> anyhow::Result<()> {
    let cfg = &config.serve;
    let root = args
        .root
        .or_else(|| cfg.root.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT));
    let port_env = std::env::var("PORT").ok();
    let bind = bind_address(
        args.bind.as_deref(),
        port_env.as_deref(),
        cfg.bind.as_deref(),
    )?;
    let workers = match args.workers.or(cfg.workers) {
        Some(0) => anyhow::bail!("`--workers` must be at least 1"),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let access_log = match args
        .access_log
        .or(cfg.access_log)
        .unwrap_or(AccessLogFormat::Off)
    {
        AccessLogFormat::Off => AccessLog::Off,
        AccessLogFormat::Common => AccessLog::Common,
        AccessLogFormat::Json => AccessLog::Json,
    };
    let defaults = Options::default();
    let options = Options {
        cache_control_immutable: cfg
            .cache_control_immutable
            .clone()
            .unwrap_or(defaults.cache_control_immutable),
        cache_control_revalidate: cfg
            .cache_control_revalidate
            .clone()
            .unwrap_or(defaults.cache_control_revalidate),
        memory_budget: cfg.memory_budget.unwrap_or(defaults.memory_budget),
        memory_file_limit: cfg.memory_file_limit.unwrap_or(defaults.memory_file_limit),
        header_rules: cfg
            .headers
            .iter()
            .map(|rule| HeaderRule {
                glob: rule.path.clone(),
                headers: rule
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            })
            .collect(),
        spa_fallback: args.spa_fallback.or_else(|| cfg.spa_fallback.clone()),
        clean_urls: args.clean_urls || cfg.clean_urls.unwrap_or(false),
        health_path: args.health_path.or_else(|| cfg.health_path.clone()),
    };
    let shutdown_timeout = args.shutdown_timeout.or(cfg.shutdown_timeout).unwrap_or(30);
    let (request_timeout, keep_alive) = connection_timeouts(
        args.request_timeout.or(cfg.request_timeout),
        args.keep_alive.or(cfg.keep_alive),
    )?;
    let watch_interval = if args.no_watch || cfg.watch == Some(false) {
        None
    } else {
        match args.watch_interval.as_ref().or(cfg.watch_interval.as_ref()) {
            Some(text) => Some(parse_interval(text)?),
            None => Some(assetc_server::DEFAULT_WATCH_INTERVAL),
        }
    };

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
    let mount = Mount::new("/", build).access_log(access_log);
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
        let server = actix_web::HttpServer::new(move || {
            let fallback = mount.clone();
            actix_web::App::new()
                .service(mount.clone())
                // Targets the root mount does not match (`*`, authority-form) get the
                // mount's own answer (400, or 405 with Allow) instead of actix-web's bare
                // 404 without Date or Cache-Control.
                .default_service(actix_web::web::to(move |req: actix_web::HttpRequest| {
                    std::future::ready(fallback.respond(&req))
                }))
        })
        .workers(workers)
        .shutdown_timeout(shutdown_timeout)
        .client_request_timeout(request_timeout)
        .keep_alive(keep_alive)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins_over_port_over_config() {
        let b = |f, p, c| bind_address(f, p, c).unwrap();
        assert_eq!(b(None, None, None), "127.0.0.1:8080");
        assert_eq!(b(None, None, Some("0.0.0.0:80")), "0.0.0.0:80");
        assert_eq!(b(None, Some("9000"), Some("0.0.0.0:80")), "0.0.0.0:9000");
        assert_eq!(b(None, Some(""), None), "127.0.0.1:8080");
        assert_eq!(
            b(Some("127.0.0.1:0"), Some("9000"), Some("x")),
            "127.0.0.1:0"
        );
        let err = bind_address(None, Some("http"), None).unwrap_err();
        assert!(format!("{err:#}").contains("`http`"));
    }

    #[test]
    fn config_table_deserialises_and_refuses_unknown_keys() {
        let cfg: ServeConfig = toml::from_str(
            r#"
            root = "dist"
            access_log = "json"
            cache_control_immutable = "public, max-age=31536000, s-maxage=31536000, immutable"
            [[headers]]
            path = "/fonts/**"
            headers = { "Access-Control-Allow-Origin" = "*" }
            "#,
        )
        .unwrap();
        assert_eq!(cfg.root.as_deref(), Some(std::path::Path::new("dist")));
        assert_eq!(cfg.access_log, Some(AccessLogFormat::Json));
        assert_eq!(cfg.headers[0].headers["Access-Control-Allow-Origin"], "*");
        assert!(toml::from_str::<ServeConfig>("rooot = \"x\"").is_err());
        let cfg: ServeConfig = toml::from_str("watch = false\nwatch_interval = \"250ms\"").unwrap();
        assert_eq!(
            (cfg.watch, cfg.watch_interval.as_deref()),
            (Some(false), Some("250ms"))
        );
    }

    #[test]
    fn connection_timeouts_default_to_five_seconds_and_refuse_no_request_limit() {
        use actix_web::http::KeepAlive;
        let t = |r, k| connection_timeouts(r, k).unwrap();
        assert_eq!(
            t(None, None),
            (
                Duration::from_secs(5),
                KeepAlive::Timeout(Duration::from_secs(5))
            )
        );
        assert_eq!(
            t(Some(2), Some(30)),
            (
                Duration::from_secs(2),
                KeepAlive::Timeout(Duration::from_secs(30))
            )
        );
        assert_eq!(t(Some(1), Some(0)).1, KeepAlive::Disabled);
        let err = connection_timeouts(Some(0), None).unwrap_err();
        assert!(format!("{err:#}").contains("--request-timeout"), "{err:#}");
        let cfg: ServeConfig = toml::from_str("request_timeout = 2\nkeep_alive = 0").unwrap();
        assert_eq!((cfg.request_timeout, cfg.keep_alive), (Some(2), Some(0)));
    }

    #[test]
    fn watch_intervals() {
        assert_eq!(parse_interval("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_interval("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_interval(" 3 ").unwrap(), Duration::from_secs(3));
        for bad in ["", "ms", "1h", "-1s", "1.5s", "0ms"] {
            let err = parse_interval(bad).unwrap_err();
            assert!(format!("{err:#}").contains("interval"), "{bad}: {err:#}");
        }
    }
}
