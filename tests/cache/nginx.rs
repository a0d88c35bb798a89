//! nginx from Debian (`just test-deps` installs it) started by the test in the foreground
//! with a throwaway prefix directory, on 127.0.0.1, in front of the replicas. The test's own
//! `nginx.conf` holds what the shipped include leaves to the main file: the `http` settings
//! of Debian's `/etc/nginx/nginx.conf` that touch responses (`gzip on` among them), the
//! process and temp paths in the prefix, and an access log of `$upstream_cache_status`,
//! the cache's own record of hits.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::checks::{Cache, Stats};
use super::replicas::write;
use crate::common::http::Http;
use crate::common::TIMEOUT;

const NGINX: &str = "/usr/sbin/nginx";

/// The shipped include with the test's addresses: only the lines marked `# replica`,
/// `# listen` and `# cache path` change, and only the address or path on them.
pub fn shipped_conf(replicas: &[SocketAddr], listen: SocketAddr, cache_dir: &Path) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx/assetc-cache.conf");
    let conf = std::fs::read_to_string(&path).unwrap();
    let mut next = replicas.iter();
    let mut marked = [0; 2];
    let out: Vec<String> = conf
        .lines()
        .map(|line| {
            let code = line.split('#').next().unwrap();
            let mut words = code.split_whitespace();
            let directive = words.next().unwrap_or_default();
            let value = words.next().unwrap_or_default();
            let trimmed = line.trim_end();
            if trimmed.ends_with("# replica") {
                let addr = next.next().expect("as many `# replica` lines as replicas");
                assert_eq!(directive, "server", "{line:?}");
                line.replacen(value, &addr.to_string(), 1)
            } else if trimmed.ends_with("# listen") {
                marked[0] += 1;
                line.replacen(value.trim_end_matches(';'), &listen.to_string(), 1)
            } else if trimmed.ends_with("# cache path") {
                marked[1] += 1;
                line.replacen(value, cache_dir.to_str().unwrap(), 1)
            } else {
                line.to_owned()
            }
        })
        .collect();
    assert!(
        next.next().is_none(),
        "fewer `# replica` lines than replicas"
    );
    assert_eq!(marked, [1, 1], "one `# listen` and one `# cache path` line");
    out.join("\n") + "\n"
}

/// What a team gets from nginx's documentation of `proxy_cache` with the replicas as one
/// upstream: a cache zone, `proxy_cache` and `proxy_pass`, every other directive at its
/// default.
pub fn stock_conf(replicas: &[SocketAddr], listen: SocketAddr, cache_dir: &Path) -> String {
    let servers: String = replicas
        .iter()
        .map(|a| format!("    server {a};\n"))
        .collect();
    format!(
        "upstream assetc {{\n{servers}}}\n\
         proxy_cache_path {} keys_zone=stock:10m;\n\
         server {{\n    listen {listen};\n    location / {{\n        proxy_pass http://assetc;\n        proxy_cache stock;\n    }}\n}}\n",
        cache_dir.display()
    )
}

/// Which configuration nginx runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conf {
    /// deploy/nginx/assetc-cache.conf ([`shipped_conf`]).
    Shipped,
    /// [`stock_conf`].
    Stock,
}

/// A running nginx, stopped on drop.
pub struct Nginx {
    child: Child,
    dir: tempfile::TempDir,
    addr: SocketAddr,
    conf: Conf,
}

impl Nginx {
    /// nginx with the http-level `include` that `conf` makes for a listen address and a
    /// cache directory (`shipped_conf` or `stock_conf`); returns once it accepts
    /// connections. The port is one the kernel just gave out; another is tried if nginx
    /// cannot bind it.
    pub fn start(replicas: &[SocketAddr], which: Conf) -> Self {
        let conf = match which {
            Conf::Shipped => shipped_conf,
            Conf::Stock => stock_conf,
        };
        assert!(
            Path::new(NGINX).exists(),
            "no `{NGINX}`: `just test-deps` installs Debian's nginx"
        );
        let mut failures = Vec::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let listen = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap();
            let cache_dir = dir.path().join("cache");
            write(
                dir.path(),
                "assetc.conf",
                &conf(replicas, listen, &cache_dir),
            );
            let p = dir.path().display();
            // Workers run as `user`; as root that would be nobody, who cannot enter the
            // test's temp dir.
            let user = if rustix::process::geteuid().is_root() {
                "user root;\n"
            } else {
                ""
            };
            let main = format!(
                "daemon off;\nmaster_process on;\nworker_processes 1;\n{user}pid {p}/nginx.pid;\n\
                 error_log {p}/error.log info;\nevents {{ worker_connections 512; }}\n\
                 http {{\n\
                 \x20   sendfile on;\n    tcp_nopush on;\n    gzip on;\n\
                 \x20   client_body_temp_path {p}/body;\n    proxy_temp_path {p}/proxy;\n\
                 \x20   fastcgi_temp_path {p}/fastcgi;\n    uwsgi_temp_path {p}/uwsgi;\n    scgi_temp_path {p}/scgi;\n\
                 \x20   log_format cache '$request_uri|$status|$upstream_cache_status';\n\
                 \x20   access_log {p}/access.log cache;\n\
                 \x20   include {p}/assetc.conf;\n}}\n"
            );
            let conf_path = write(dir.path(), "nginx.conf", &main);
            let log = std::fs::File::create(dir.path().join("nginx.out")).unwrap();
            let child = Command::new(NGINX)
                .arg("-p")
                .arg(dir.path())
                .arg("-c")
                .arg(&conf_path)
                .arg("-e")
                .arg(dir.path().join("error.log"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("run nginx");
            let mut nginx = Self {
                child,
                dir,
                addr: listen,
                conf: which,
            };
            let deadline = Instant::now() + TIMEOUT;
            loop {
                if TcpStream::connect(listen).is_ok() {
                    return nginx;
                }
                if nginx.child.try_wait().unwrap().is_some() || Instant::now() > deadline {
                    failures.push(nginx.output());
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        panic!("nginx did not start: {failures:#?}");
    }

    fn output(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("{}{}", read("nginx.out"), read("error.log"))
    }

    /// nginx's access log (`$request_uri|$status|$upstream_cache_status` a line), or ""
    /// before its first line.
    fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// The `$upstream_cache_status` of every request in the access log so far: `HIT`,
    /// `MISS`, `REVALIDATED`, `EXPIRED`, … or `-` (not cacheable there).
    pub fn cache_statuses(&self) -> Vec<String> {
        self.access_log()
            .lines()
            .map(|line| line.rsplit('|').next().unwrap().to_owned())
            .collect()
    }
}

impl Cache for Nginx {
    /// The access log's lines, its `HIT`s, and its `REVALIDATED`s (an expired entry
    /// revalidated with the upstream, answered 304: RFC 9111 §4.3).
    fn stats(&self) -> Stats {
        let log = self.cache_statuses();
        let count = |status: &str| log.iter().filter(|s| *s == status).count() as u64;
        Stats {
            requests: log.len() as u64,
            hits: count("HIT"),
            revalidated: count("REVALIDATED"),
        }
    }

    fn name(&self) -> &'static str {
        "nginx"
    }

    /// The shipped key holds the normalised coding and `Vary` is ignored (so that two
    /// spellings of one coding share a copy): a resource without variants is kept once per
    /// coding. The stock key is the URL, with `Vary` honoured.
    fn unvaried_fetches(&self) -> usize {
        match self.conf {
            Conf::Shipped => 4,
            Conf::Stock => 1,
        }
    }

    /// `proxy_cache_valid 200 1s`, which nginx counts in whole seconds: up to 2 s (the
    /// stock configuration stores no page).
    fn reuses_pages_for(&self) -> Duration {
        match self.conf {
            Conf::Shipped => Duration::from_secs(2),
            Conf::Stock => Duration::ZERO,
        }
    }

    /// The access log's lines for `url`.
    fn record_of(&self, url: &str) -> String {
        let start = format!("{url}|");
        self.access_log()
            .lines()
            .filter(|line| line.starts_with(&start))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Http for Nginx {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers and exits (SIGKILL would leave them behind).
        let pid = rustix::process::Pid::from_child(&self.child);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
