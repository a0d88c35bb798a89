//! Varnish from Debian (`varnishd`, `varnishadm`, `varnishstat`; `just test-deps` installs
//! them) started by the test in the foreground with a throwaway working directory, on
//! 127.0.0.1 with ports it picks itself, in front of the replicas.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::checks::{Cache, Stats};
use super::replicas::write;
use crate::common::http::Http;
use crate::common::TIMEOUT;

const VARNISHD: &str = "/usr/sbin/varnishd";

/// The shipped VCL with the replicas' addresses: only the lines marked `# replica` change,
/// and only their `.host` and `.port` values, so the file tested is the file shipped.
pub fn shipped_vcl(replicas: &[SocketAddr]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/varnish/assetc.vcl");
    let vcl = std::fs::read_to_string(&path).unwrap();
    let mut next = replicas.iter();
    let out: Vec<String> = vcl
        .lines()
        .map(|line| {
            if !line.trim_end().ends_with("# replica") {
                return line.to_owned();
            }
            let addr = next.next().expect("as many `# replica` lines as replicas");
            let line = replace_quoted(line, ".host = \"", &addr.ip().to_string());
            replace_quoted(&line, ".port = \"", &addr.port().to_string())
        })
        .collect();
    assert!(
        next.next().is_none(),
        "fewer `# replica` lines than replicas"
    );
    out.join("\n") + "\n"
}

/// `line` with the quoted value after `key` replaced by `value`.
pub fn replace_quoted(line: &str, key: &str, value: &str) -> String {
    let start = line
        .find(key)
        .unwrap_or_else(|| panic!("no `{key}` in {line:?}"))
        + key.len();
    let end = start + line[start..].find('"').unwrap();
    format!("{}{value}{}", &line[..start], &line[end..])
}

/// Varnish's stock behaviour with two replicas: Debian's `/etc/varnish/default.vcl` (one
/// backend, empty subroutines, so the built-in VCL decides everything) with the replicas as
/// two backends behind a round-robin director, probed as the shipped VCL probes them. Run
/// with Varnish's default parameters (`http_gzip_support` on).
pub fn stock_vcl(replicas: &[SocketAddr]) -> String {
    let mut vcl = String::from("vcl 4.1;\nimport directors;\n");
    vcl.push_str("probe health { .url = \"/healthz\"; .interval = 2s; .timeout = 1s; .window = 3; .threshold = 2; }\n");
    for (i, addr) in replicas.iter().enumerate() {
        vcl.push_str(&format!(
            "backend replica{} {{ .host = \"{}\"; .port = \"{}\"; .probe = health; }}\n",
            i + 1,
            addr.ip(),
            addr.port()
        ));
    }
    vcl.push_str("sub vcl_init {\n    new replicas = directors.round_robin();\n");
    for i in 0..replicas.len() {
        vcl.push_str(&format!("    replicas.add_backend(replica{});\n", i + 1));
    }
    vcl.push_str("}\nsub vcl_recv {\n    set req.backend_hint = replicas.backend();\n}\n");
    vcl
}

/// A running `varnishd -F`, stopped on drop.
pub struct Varnish {
    child: Child,
    /// Its working directory (`-n`), the VCL and its output.
    dir: tempfile::TempDir,
    addr: SocketAddr,
}

impl Varnish {
    /// `varnishd` with `vcl` and `params` (`-p name=value` each), listening on 127.0.0.1 at a
    /// port it picks; returns once it listens and every backend is healthy.
    pub fn start(vcl: &str, params: &[&str]) -> Self {
        assert!(
            Path::new(VARNISHD).exists(),
            "no `{VARNISHD}`: `just test-deps` installs Debian's varnish"
        );
        let dir = tempfile::tempdir().unwrap();
        let vcl_path = write(dir.path(), "assetc.vcl", vcl);
        let log = std::fs::File::create(dir.path().join("varnishd.log")).unwrap();
        let mut cmd = Command::new(VARNISHD);
        // -j none: no privilege separation, so the test's temp dir is readable by every
        // Varnish process whoever runs the tests. A small storage and thread pool: the test
        // sends a few thousand requests at most.
        cmd.args(["-F", "-j", "none", "-a", "127.0.0.1:0", "-T", "127.0.0.1:0"])
            .arg("-n")
            .arg(work_dir(dir.path()))
            .arg("-f")
            .arg(&vcl_path)
            .args([
                "-s",
                "malloc,64m",
                "-p",
                "thread_pools=1",
                "-p",
                "thread_pool_min=8",
            ]);
        for param in params {
            cmd.args(["-p", param]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("run varnishd");
        let mut varnish = Self {
            child,
            dir,
            addr: "127.0.0.1:0".parse().unwrap(),
        };
        // `debug.listen_address` answers once the child listens: `a0 127.0.0.1 34567`.
        let listen = varnish.poll("listening", |v| {
            let out = v.adm(&["debug.listen_address"]);
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let mut words = text.split_whitespace().skip(1);
            let ip = words.next()?;
            let port = words.next()?;
            format!("{ip}:{port}").parse::<SocketAddr>().ok()
        });
        varnish.addr = listen;
        varnish.poll("every backend healthy", |v| {
            let out = v.adm(&["backend.list"]);
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let backends: Vec<&str> = text.lines().skip(1).filter(|l| !l.is_empty()).collect();
            (out.status.success()
                && !backends.is_empty()
                && backends
                    .iter()
                    .all(|l| l.contains("healthy") && !l.contains("sick")))
            .then_some(())
        });
        varnish
    }

    /// Polls `ready` every 20 ms until it gives a value, failing after [`TIMEOUT`] or when
    /// varnishd exits, with its output.
    fn poll<T>(&mut self, what: &str, ready: impl Fn(&Self) -> Option<T>) -> T {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(value) = ready(self) {
                return value;
            }
            let exited = self.child.try_wait().unwrap();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "varnishd not {what} (exit {exited:?}); its output:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("varnishd.log")).unwrap_or_default()
    }

    fn adm(&self, args: &[&str]) -> Output {
        Command::new("varnishadm")
            .arg("-n")
            .arg(work_dir(self.dir.path()))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run varnishadm")
    }

    /// Every counter `varnishstat -1 -j` prints, by name (`MAIN.cache_hit`).
    pub fn counters(&self) -> std::collections::BTreeMap<String, u64> {
        let out = Command::new("varnishstat")
            .arg("-n")
            .arg(work_dir(self.dir.path()))
            .args(["-1", "-j"])
            .output()
            .expect("run varnishstat");
        assert!(out.status.success(), "varnishstat: {out:?}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["counters"]
            .as_object()
            .expect("varnishstat's `counters`")
            .iter()
            .filter_map(|(name, c)| Some((name.clone(), c["value"].as_u64()?)))
            .collect()
    }
}

fn work_dir(dir: &Path) -> PathBuf {
    dir.join("n")
}

impl Cache for Varnish {
    /// `MAIN.client_req`, `MAIN.cache_hit` and `MAIN.fetch_304` (backend fetches answered
    /// 304: conditional fetches of a stored object, RFC 9111 §4.3).
    fn stats(&self) -> Stats {
        let c = self.counters();
        let n = |name: &str| c.get(name).copied().unwrap_or(0);
        Stats {
            requests: n("MAIN.client_req"),
            hits: n("MAIN.cache_hit"),
            revalidated: n("MAIN.fetch_304"),
        }
    }

    fn name(&self) -> &'static str {
        "varnish"
    }

    /// One object per URL and `Vary` value (RFC 9111 §4.1).
    fn unvaried_fetches(&self) -> usize {
        1
    }

    /// The shipped VCL's TTL for pages (the stock VCL stores none).
    fn reuses_pages_for(&self) -> Duration {
        Duration::from_millis(1)
    }

    /// `varnishlog -d` of the client requests for `url`, each with its backend fetch:
    /// whether it was a hit, which stored object a miss revalidated, what the replica sent.
    fn record_of(&self, url: &str) -> String {
        let out = Command::new("varnishlog")
            .arg("-n")
            .arg(work_dir(self.dir.path()))
            .args(["-d", "-g", "request", "-q"])
            .arg(format!("ReqURL eq \"{url}\""))
            .stdin(Stdio::null())
            .output()
            .expect("run varnishlog");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Http for Varnish {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Varnish {
    fn drop(&mut self) {
        // SIGTERM: the manager stops its child and exits; SIGKILL after a bound.
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
