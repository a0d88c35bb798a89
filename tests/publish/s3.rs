//! A real S3-compatible server for the publish tests: `s3s-fs` 0.14.1 (it checks SigV4
//! signatures and keeps Cache-Control, Content-Type and Content-Encoding), which `just
//! test-deps` installs under `target/tools/s3s-fs/`, started on 127.0.0.1 at a port it
//! picks, over a temp dir in which each bucket is a directory; and every object read back
//! through the S3 API (object_store's client, the one `assetc publish` uses too).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{Attribute, ObjectStore, ObjectStoreExt};

use crate::common::TIMEOUT;

pub const ACCESS_KEY: &str = "AKIDASSETCTEST";
pub const SECRET_KEY: &str = "assetc-test-secret";

/// Where `just test-deps` installs it (`cargo install --root`), under the target dir.
fn binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("tools/s3s-fs/bin/s3s-fs")
}

/// A running `s3s-fs`, killed on drop.
pub struct S3 {
    child: Child,
    pub addr: SocketAddr,
    data: tempfile::TempDir,
}

impl S3 {
    /// `s3s-fs` with the test credentials and the buckets `buckets`.
    pub fn start(buckets: &[&str]) -> Self {
        let binary = binary();
        assert!(
            binary.exists(),
            "no `{}`: `just test-deps` installs s3s-fs 0.14.1 there",
            binary.display()
        );
        let data = tempfile::tempdir().unwrap();
        for bucket in buckets {
            std::fs::create_dir(data.path().join(bucket)).unwrap();
        }
        let mut child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(data.path())
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run s3s-fs");
        // It logs `server is running at http://ADDR` once it listens (on stdout or stderr,
        // whichever its tracing writes to).
        let (tx, rx) = mpsc::channel();
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        let marker = "server is running at http://";
        let mut seen = Vec::new();
        let addr = loop {
            match rx.recv_timeout(TIMEOUT) {
                Ok(line) => {
                    if let Some(at) = line.find(marker) {
                        let rest = &line[at + marker.len()..];
                        let addr: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                            .collect();
                        break addr.parse().expect("a socket address");
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("s3s-fs printed no `{marker}` line; saw {seen:#?}");
                }
            }
        };
        Self { child, addr, data }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client of `bucket` with the test credentials.
    pub fn client(&self, bucket: &str) -> AmazonS3 {
        client(&self.url(), bucket)
    }

    /// Every object of `bucket`, read back through the S3 API: its bytes and headers.
    pub fn objects(&self, bucket: &str) -> BTreeMap<String, Object> {
        objects(&self.client(bucket))
    }

    /// Stores `bytes` at `key` as another tool would (no headers, no metadata).
    pub fn put_raw(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let client = self.client(bucket);
        runtime().block_on(async {
            client
                .put(&key.into(), bytes.to_vec().into())
                .await
                .unwrap();
        });
    }

    /// The data directory (a bucket per directory).
    pub fn data(&self) -> &std::path::Path {
        self.data.path()
    }
}

/// A client of `bucket` at the store `url` with the test credentials.
pub fn client(url: &str, bucket: &str) -> AmazonS3 {
    AmazonS3Builder::new()
        .with_endpoint(url)
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_access_key_id(ACCESS_KEY)
        .with_secret_access_key(SECRET_KEY)
        .with_bucket_name(bucket)
        .build()
        .unwrap()
}

/// Every object `client`'s bucket holds, read back through the S3 API: bytes and headers.
pub fn objects(client: &AmazonS3) -> BTreeMap<String, Object> {
    runtime().block_on(async {
        use futures_util::TryStreamExt;
        let metas: Vec<_> = client.list(None).try_collect().await.unwrap();
        let mut objects = BTreeMap::new();
        for meta in metas {
            let result = client.get(&meta.location).await.unwrap();
            let attributes = result.attributes.clone();
            let get = |a: &Attribute| attributes.get(a).map(|v| v.to_string());
            let object = Object {
                cache_control: get(&Attribute::CacheControl),
                content_type: get(&Attribute::ContentType),
                content_encoding: get(&Attribute::ContentEncoding),
                sha256: get(&Attribute::Metadata("sha256".into())),
                bytes: result.bytes().await.unwrap().to_vec(),
            };
            objects.insert(meta.location.to_string(), object);
        }
        objects
    })
}

/// Whether a GET of `key` with `If-None-Match` and the bucket's own ETag of it is answered
/// 304 (object_store's `NotModified`), as a CDN's revalidation would be.
pub fn revalidates(client: &AmazonS3, key: &str) -> bool {
    runtime().block_on(async {
        let key = key.into();
        let etag = client.head(&key).await.unwrap().e_tag.unwrap();
        let options = object_store::GetOptions {
            if_none_match: Some(etag),
            ..Default::default()
        };
        matches!(
            client.get_opts(&key, options).await,
            Err(object_store::Error::NotModified { .. })
        )
    })
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// One object as the S3 API answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub cache_control: Option<String>,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub sha256: Option<String>,
    pub bytes: Vec<u8>,
}
