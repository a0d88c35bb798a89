//! The one place flags, `assetc.toml` and the environment become options: flags win over
//! the file, the file over the defaults, and each default is written once (the libraries'
//! own where they have one).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use assetc_core::Coding;
use assetc_pipeline::build::options::{
    DEFAULT_INPUT, DEFAULT_KEEP, DEFAULT_KEEP_AGE, DEFAULT_OUTPUT,
};
use assetc_pipeline::compress::CompressOptions;
use assetc_pipeline::{BuildOptions, LogicalPaths};
use assetc_server::{AccessLog, HeaderRule, Options};

use crate::cli::{AccessLogFormat, BuildArgs, LogicalPathsMode, ServeArgs};
use crate::config::Config;
use crate::units::parse_duration;

const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Seconds a client has to send a whole request head after connecting (actix-web's default,
/// made explicit): a slow client (slowloris) is answered 408 and disconnected after it.
const DEFAULT_REQUEST_TIMEOUT: u64 = 5;
/// Seconds an idle keep-alive connection stays open between requests (actix-web's default).
const DEFAULT_KEEP_ALIVE: u64 = 5;
/// Seconds in-flight requests get to finish after SIGTERM.
const DEFAULT_SHUTDOWN_TIMEOUT: u64 = 30;

/// The wall clock, in seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The build directory a command reads: `--root`, else `[build] output`, else `build`.
pub fn build_root(flag: Option<&Path>, config: &Config) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| config.build.output.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT))
}

/// Generations kept by count: `--keep`, else `[build] keep`, else the default.
pub fn keep(flag: Option<usize>, config: &Config) -> usize {
    flag.or(config.build.keep).unwrap_or(DEFAULT_KEEP)
}

/// Generations kept by age, in seconds: the flag, else `[build] keep_age`, else the default.
pub fn keep_age(flag: Option<&str>, config: &Config) -> anyhow::Result<i64> {
    match flag.or(config.build.keep_age.as_deref()) {
        Some(text) => Ok(parse_duration(text)?.as_secs() as i64),
        None => Ok(DEFAULT_KEEP_AGE),
    }
}

/// The most older builds deltas are computed against (`--dictionaries`).
const MAX_DICTIONARIES: usize = 4;

/// A build's options from the flags, `assetc.toml` and the environment.
pub fn build_options(args: &BuildArgs, config: &Config) -> anyhow::Result<BuildOptions> {
    let c = &config.build;
    let now = now();
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
    if let Some(n) = args.dictionaries.or(c.dictionaries) {
        // Each dictionary costs two encodings per changed file at every build.
        if n > MAX_DICTIONARIES {
            bail!("`dictionaries` must be at most {MAX_DICTIONARIES}, not `{n}`; hint: deltas against the newest older build serve most returning visitors");
        }
        compress.dictionaries = n;
    }
    let keep_age = keep_age(args.keep_age.as_deref(), config)?;
    Ok(BuildOptions {
        input: args
            .input
            .clone()
            .or_else(|| c.input.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_INPUT)),
        output: args
            .output
            .clone()
            .or_else(|| c.output.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT)),
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
        logical_paths: match args.logical_paths.or(c.logical_paths) {
            None | Some(LogicalPathsMode::None) => LogicalPaths::None,
            Some(LogicalPathsMode::Link) => LogicalPaths::Link,
            Some(LogicalPathsMode::Copy) => LogicalPaths::Copy,
        },
        compress,
        build_time: build_time(now)?,
        now,
        keep: keep(args.keep, config),
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

/// What `assetc serve` runs with.
#[derive(Debug)]
pub struct Serve {
    pub root: PathBuf,
    pub bind: String,
    /// The URL path the build is mounted at: `/`, or e.g. `/docs/`.
    pub prefix: String,
    pub workers: usize,
    pub access_log: AccessLog,
    pub options: Options,
    pub shutdown_timeout: u64,
    pub request_timeout: Duration,
    pub keep_alive: actix_web::http::KeepAlive,
    /// None: do not watch the root.
    pub watch_interval: Option<Duration>,
}

/// `assetc serve`'s settings from its flags, `[serve]` and `PORT`.
pub fn serve(args: ServeArgs, config: &Config) -> anyhow::Result<Serve> {
    let cfg = &config.serve;
    let root = args
        .root
        .or_else(|| cfg.root.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT));
    let port_env = std::env::var("PORT").ok();
    let bind = bind_address(
        args.bind.as_deref(),
        port_env.as_deref(),
        cfg.bind.as_deref(),
    )?;
    let prefix = args
        .prefix
        .clone()
        .or_else(|| cfg.prefix.clone())
        .unwrap_or_else(|| "/".into());
    if !prefix.starts_with('/') || prefix.contains(['?', '#', ' ']) {
        bail!("`--prefix` must be a URL path starting with `/` (such as `/docs/`), not `{prefix}`");
    }
    let workers = match args.workers.or(cfg.workers) {
        Some(0) => bail!("`--workers` must be at least 1"),
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
        open_files: open_files(args.open_files.or(cfg.open_files), descriptor_limit())?,
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
        preload_links: args.preload_links || cfg.preload_links.unwrap_or(defaults.preload_links),
        dictionaries: !args.no_dictionaries && cfg.dictionaries.unwrap_or(defaults.dictionaries),
    };
    let (request_timeout, keep_alive) = connection_timeouts(
        args.request_timeout.or(cfg.request_timeout),
        args.keep_alive.or(cfg.keep_alive),
    )?;
    let watch_interval = if args.no_watch || cfg.watch == Some(false) {
        None
    } else {
        Some(watch_interval(
            args.watch_interval
                .as_deref()
                .or(cfg.watch_interval.as_deref()),
        )?)
    };
    Ok(Serve {
        root,
        bind,
        prefix,
        workers,
        access_log,
        options,
        shutdown_timeout: args
            .shutdown_timeout
            .or(cfg.shutdown_timeout)
            .unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT),
        request_timeout,
        keep_alive,
        watch_interval,
    })
}

/// Descriptors the server needs besides its files on disk: the runtime, signals, the
/// listener, the watcher, the manifest being read.
const RESERVED_DESCRIPTORS: u64 = 32;

/// Files on disk kept open: the flag or key, else the default, but never more than half
/// of what the descriptor limit leaves, so that connections always have the rest. A limit
/// too low to serve at all is refused here, before the runtime fails on it.
fn open_files(wanted: Option<usize>, limit: Option<u64>) -> anyhow::Result<usize> {
    let wanted = match wanted {
        Some(0) => bail!("`--open-files` must be at least 1"),
        Some(n) => n,
        None => Options::default().open_files,
    };
    let Some(limit) = limit else {
        return Ok(wanted);
    };
    if limit < 2 * RESERVED_DESCRIPTORS {
        bail!(
            "the open-file limit ({limit}) is too low to serve; hint: raise it to at least {} with `ulimit -n`",
            2 * RESERVED_DESCRIPTORS
        );
    }
    Ok(wanted.min(((limit - RESERVED_DESCRIPTORS) / 2) as usize))
}

/// The process's soft limit on open files (already raised to the hard one by `main`).
fn descriptor_limit() -> Option<u64> {
    open_file_limits().map(|(soft, _)| soft)
}

/// The build works on many files at once, and the server on many connections (its files
/// on disk take at most `--open-files` descriptors): raise the soft open-file limit to the
/// hard one.
pub fn raise_open_file_limit() {
    #[cfg(unix)]
    if let Some((_, hard)) = open_file_limits().filter(|(soft, hard)| soft < hard) {
        let limit = libc::rlimit {
            rlim_cur: hard as libc::rlim_t,
            rlim_max: hard as libc::rlim_t,
        };
        // SAFETY: setrlimit only reads the struct passed to it.
        #[allow(unsafe_code)]
        unsafe {
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// The soft and hard limits on open files.
fn open_file_limits() -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct passed to it.
        #[allow(unsafe_code)]
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
        // `rlim_t` is not `u64` on every platform.
        #[allow(clippy::unnecessary_cast)]
        return ok.then_some((limit.rlim_cur as u64, limit.rlim_max as u64));
    }
    #[allow(unreachable_code)]
    None
}

/// How often the root is looked at: the flag or key, else the server's default.
fn watch_interval(text: Option<&str>) -> anyhow::Result<Duration> {
    let Some(text) = text else {
        return Ok(assetc_server::DEFAULT_WATCH_INTERVAL);
    };
    let interval = parse_duration(text)?;
    if interval.is_zero() {
        bail!("the watch interval must be more than zero; hint: use `--no-watch` to turn watching off");
    }
    Ok(interval)
}

/// Where to listen: the flag, else `PORT` (as platforms set it), else the config, else the
/// default.
pub fn bind_address(
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
pub fn connection_timeouts(
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

/// Requests `assetc publish` keeps in flight by default: enough to hide a store's latency,
/// few enough for any store's rate limits.
#[cfg(feature = "publish")]
const DEFAULT_PUBLISH_JOBS: usize = 8;

/// What `assetc publish` runs with.
#[cfg(feature = "publish")]
#[derive(Debug)]
pub struct Publish {
    pub root: PathBuf,
    pub bucket: String,
    /// Without slashes at either end; empty for the bucket's root.
    pub prefix: String,
    /// None: `AWS_ENDPOINT_URL` (read by the client), else AWS itself.
    pub endpoint: Option<String>,
    pub dry_run: bool,
    pub delete: bool,
    pub jobs: usize,
    pub policy: crate::publish::plan::Policy,
    /// Kept generations, as `clean` keeps them.
    pub keep: usize,
    pub keep_age: i64,
}

/// `assetc publish`'s settings from its flags, `[publish]` (and `[serve]`'s Cache-Control,
/// so that the bucket answers as `assetc serve` would) and `[build]`'s retention.
#[cfg(feature = "publish")]
pub fn publish(args: crate::cli::PublishArgs, config: &Config) -> anyhow::Result<Publish> {
    let cfg = &config.publish;
    let to = args.to.or_else(|| cfg.to.clone()).context(
        "no destination; hint: pass `--to s3://BUCKET[/PREFIX]`, or set `to` in `[publish]` of `assetc.toml`",
    )?;
    let (bucket, prefix) = parse_s3_url(&to)?;
    let jobs = match args.jobs.or(cfg.jobs) {
        Some(0) => bail!("`--jobs` must be at least 1"),
        Some(n) => n,
        None => DEFAULT_PUBLISH_JOBS,
    };
    let defaults = Options::default();
    let policy = crate::publish::plan::Policy {
        cache_control_immutable: cfg
            .cache_control_immutable
            .clone()
            .or_else(|| config.serve.cache_control_immutable.clone())
            .unwrap_or(defaults.cache_control_immutable),
        cache_control_revalidate: cfg
            .cache_control_revalidate
            .clone()
            .or_else(|| config.serve.cache_control_revalidate.clone())
            .unwrap_or(defaults.cache_control_revalidate),
        variants: args.variants.or(cfg.variants).unwrap_or_default(),
    };
    Ok(Publish {
        root: build_root(args.root.as_deref(), config),
        bucket,
        prefix,
        endpoint: args.endpoint.or_else(|| cfg.endpoint.clone()),
        dry_run: args.dry_run,
        delete: args.delete || cfg.delete.unwrap_or(false),
        jobs,
        policy,
        keep: keep(None, config),
        keep_age: keep_age(None, config)?,
    })
}

/// `s3://BUCKET[/PREFIX]` as the bucket and the prefix, without slashes at its ends.
#[cfg(feature = "publish")]
fn parse_s3_url(url: &str) -> anyhow::Result<(String, String)> {
    let hint = "; hint: write it as `s3://BUCKET` or `s3://BUCKET/PREFIX`";
    let Some(rest) = url.strip_prefix("s3://") else {
        bail!("`{url}` is not an `s3://` URL{hint}");
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() || bucket.contains(['?', '#', ' ']) {
        bail!("`{url}` names no bucket{hint}");
    }
    let prefix = prefix.trim_matches('/');
    if prefix.split('/').any(|s| s == "." || s == "..") || prefix.contains("//") {
        bail!("the prefix of `{url}` has an empty, `.` or `..` segment{hint}");
    }
    Ok((bucket.to_owned(), prefix.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "publish")]
    #[test]
    fn publish_flags_win_over_the_publish_table_which_wins_over_serves_cache_control() {
        let config: Config = toml::from_str(
            r#"
            [serve]
            cache_control_immutable = "public, max-age=600, immutable"
            cache_control_revalidate = "no-cache, s-maxage=60"
            [publish]
            to = "s3://from-config/site/"
            variants = "keys"
            jobs = 3
            cache_control_revalidate = "no-cache"
            "#,
        )
        .unwrap();
        let args = |to: Option<&str>, variants| crate::cli::PublishArgs {
            root: None,
            to: to.map(str::to_owned),
            endpoint: None,
            dry_run: false,
            delete: false,
            variants,
            jobs: None,
            json: false,
        };
        let s = publish(args(None, None), &config).unwrap();
        assert_eq!(
            (s.bucket.as_str(), s.prefix.as_str()),
            ("from-config", "site")
        );
        assert_eq!(s.policy.variants, crate::cli::Variants::Keys);
        assert_eq!(s.jobs, 3);
        assert_eq!(
            s.policy.cache_control_immutable,
            "public, max-age=600, immutable"
        );
        assert_eq!(s.policy.cache_control_revalidate, "no-cache");
        let s = publish(
            args(Some("s3://flag"), Some(crate::cli::Variants::None)),
            &config,
        )
        .unwrap();
        assert_eq!((s.bucket.as_str(), s.prefix.as_str()), ("flag", ""));
        assert_eq!(s.policy.variants, crate::cli::Variants::None);
        let err = publish(args(None, None), &Config::default()).unwrap_err();
        assert!(
            format!("{err:#}").starts_with("no destination; hint: "),
            "{err:#}"
        );
        assert!(toml::from_str::<Config>("[publish]\nbukket = \"x\"").is_err());
    }

    #[cfg(feature = "publish")]
    #[test]
    fn s3_urls_give_a_bucket_and_a_prefix_without_end_slashes() {
        let p = |u| parse_s3_url(u).unwrap();
        assert_eq!(p("s3://b"), ("b".into(), "".into()));
        assert_eq!(p("s3://b/"), ("b".into(), "".into()));
        assert_eq!(p("s3://b/site/v1/"), ("b".into(), "site/v1".into()));
        for bad in [
            "b",
            "https://b",
            "s3://",
            "s3:///x",
            "s3://b/a//c",
            "s3://b/../x",
        ] {
            assert!(parse_s3_url(bad).is_err(), "{bad}");
        }
    }

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
    }

    #[test]
    fn watch_intervals_take_the_one_duration_syntax_and_refuse_zero() {
        let w = |t| watch_interval(Some(t)).unwrap();
        assert_eq!(w("250ms"), Duration::from_millis(250));
        assert_eq!(w("2s"), Duration::from_secs(2));
        assert_eq!(w("1h"), Duration::from_secs(3600));
        assert_eq!(
            watch_interval(None).unwrap(),
            assetc_server::DEFAULT_WATCH_INTERVAL
        );
        for bad in ["", "ms", "-1s", "1.5s", "0ms", "0"] {
            assert!(watch_interval(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn open_files_leave_half_the_descriptors_to_connections() {
        assert_eq!(open_files(None, None).unwrap(), 256);
        assert_eq!(open_files(None, Some(20_000)).unwrap(), 256);
        assert_eq!(open_files(Some(1000), Some(256)).unwrap(), 112);
        assert_eq!(open_files(Some(8), Some(64)).unwrap(), 8);
        assert!(open_files(Some(0), None).is_err());
        let err = open_files(None, Some(24)).unwrap_err();
        assert!(format!("{err:#}").contains("(24) is too low"), "{err:#}");
    }

    #[test]
    fn keep_age_takes_the_one_duration_syntax() {
        let config = Config::default();
        assert_eq!(keep_age(Some("2d"), &config).unwrap(), 172_800);
        assert_eq!(keep_age(None, &config).unwrap(), DEFAULT_KEEP_AGE);
        assert!(keep_age(Some("1y"), &config).is_err());
    }
}
