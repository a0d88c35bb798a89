//! moto's server mode (PyPI `moto[server]`, in the venv `just test-deps` makes under
//! `target/tools/moto-venv/`): a second S3 implementation, and the one that answers
//! conditional GETs with 304 as S3 does (s3s-fs never does), started on 127.0.0.1 at a port
//! it picks. It checks no signatures, so its bucket is created with a plain request.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use crate::common::http::Http;
use crate::common::TIMEOUT;

fn binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("tools/moto-venv/bin/moto_server")
}

/// A running `moto_server`, killed on drop.
pub struct Moto {
    child: Child,
    addr: SocketAddr,
}

impl Moto {
    /// `moto_server` with the bucket `bucket` created.
    pub fn start(bucket: &str) -> Self {
        let binary = binary();
        assert!(
            binary.exists(),
            "no `{}`: `just test-deps` installs moto[server] there",
            binary.display()
        );
        let mut child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run moto_server");
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        // Werkzeug prints ` * Running on http://127.0.0.1:PORT` once it listens.
        let marker = "Running on http://";
        let mut seen = Vec::new();
        let addr = loop {
            match rx.recv_timeout(TIMEOUT) {
                Ok(line) => match line.split_once(marker) {
                    Some((_, addr)) => break addr.trim().parse().expect("a socket address"),
                    None => seen.push(line),
                },
                Err(_) => {
                    let _ = child.kill();
                    panic!("moto_server printed no `{marker}` line; saw {seen:#?}");
                }
            }
        };
        let moto = Self { child, addr };
        assert_eq!(moto.request("PUT", &format!("/{bucket}"), &[]).status, 200);
        moto
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Http for Moto {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
