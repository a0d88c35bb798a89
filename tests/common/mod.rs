//! Shared test helpers (ripgrep's `tests/util.rs`, in four files): a source tree in a temp
//! dir and a runner for the real binary (here), snapshot files under `tests/snapshots/`
//! (regenerate with `UPDATE_SNAPSHOTS=1`), the one HTTP client (`http`), the servers it talks
//! to (`server`: the binary, or the library in-process) and hand-written build directories
//! for the library's tests (`fixture`).

pub mod fixture;
pub mod http;
pub mod server;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

/// Bounds every wait for a server: its start, a line it prints, a response, its exit.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The real `assetc` binary, with the environment that could change its output cleared.
pub fn assetc() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_assetc"));
    clear_env(&mut cmd);
    cmd
}

/// Clears what could change the binary's output: `SOURCE_DATE_EPOCH`, every `ASSETC_*`
/// variable, `PORT`; sets `NO_COLOR`.
pub fn clear_env(cmd: &mut Command) {
    cmd.env_remove("SOURCE_DATE_EPOCH")
        .env_remove("PORT")
        .env("NO_COLOR", "1");
    for (key, _) in std::env::vars() {
        if key.starts_with("ASSETC_") {
            cmd.env_remove(key);
        }
    }
}

/// A temp dir holding `assets/` (the input) and room for outputs beside it.
pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn input(&self) -> PathBuf {
        self.root().join("assets")
    }

    pub fn output(&self) -> PathBuf {
        self.root().join("build")
    }

    /// Writes `assets/<path>`.
    pub fn file(&self, path: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.input().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
        self
    }

    pub fn remove(&self, path: &str) -> &Self {
        fs::remove_file(self.input().join(path)).unwrap();
        self
    }

    /// `assetc build --input assets --output build` plus `args`, run in the tree's root.
    pub fn build(&self, args: &[&str]) -> Run {
        self.build_into("build", args)
    }

    pub fn build_into(&self, output: &str, args: &[&str]) -> Run {
        let output = assetc()
            .current_dir(self.root())
            .args(["build", "--input", "assets", "--output", output])
            .args(args)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .output()
            .expect("run assetc");
        Run(output)
    }

    /// `assetc ARGS` run in the tree's root.
    pub fn run(&self, args: &[&str]) -> Run {
        Run(assetc()
            .current_dir(self.root())
            .args(args)
            .output()
            .expect("run assetc"))
    }

    /// `assetc verify --root build`.
    pub fn verify(&self) -> Run {
        self.run(&["verify", "--root", "build"])
    }

    /// The built file at `path` (served path, relative to the output).
    pub fn read(&self, path: &str) -> String {
        fs::read_to_string(self.output().join(path))
            .unwrap_or_else(|e| panic!("read build/{path}: {e}"))
    }

    pub fn manifest(&self) -> serde_json::Value {
        serde_json::from_str(&self.read("assetc-manifest.json")).unwrap()
    }

    /// The served path of a logical path, from the manifest.
    pub fn served(&self, logical: &str) -> String {
        self.manifest()["entries"][logical]["path"]
            .as_str()
            .unwrap_or_else(|| panic!("`{logical}` not in the manifest"))
            .to_owned()
    }
}

/// The served tree: every file under `dir` except assetc's own `.assetc/` (which records
/// when builds ran), with its bytes, sorted by path.
pub fn served_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    snapshot_tree(dir)
        .into_iter()
        .filter(|(path, _)| !path.starts_with(".assetc/"))
        .collect()
}

/// Every file under `dir` with its bytes, sorted by path: a whole tree to compare.
pub fn snapshot_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.push((rel, fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// The outcome of one run of the binary.
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().expect("exited normally")
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    /// Asserts exit 0 and returns self.
    #[track_caller]
    pub fn success(&self) -> &Self {
        assert_eq!(
            self.code(),
            0,
            "expected success; stderr:\n{}",
            self.stderr()
        );
        self
    }

    #[track_caller]
    pub fn failure(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "expected exit {code}; stderr:\n{}",
            self.stderr()
        );
        self
    }
}

/// A copy of the tree at `from` written to `to` (created): new files, so other inodes and
/// (once the clock has moved) other mtimes, as a deploy's copy has.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Sets the mtime of every file under `dir` to `time`.
pub fn set_mtimes(dir: &Path, time: SystemTime) {
    for (path, _) in snapshot_tree(dir) {
        fs::File::options()
            .write(true)
            .open(dir.join(path))
            .and_then(|file| file.set_modified(time))
            .unwrap();
    }
}

/// `bytes` decoded from the content-coding `coding` (`br`, `zstd` or `gzip`).
pub fn decode(coding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "br" => brotli::BrotliDecompress(&mut &bytes[..], &mut out).expect("valid brotli"),
        "zstd" => out = zstd::decode_all(bytes).expect("valid zstd"),
        "gzip" => {
            flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut out)
                .expect("valid gzip");
        }
        other => panic!("unknown coding {other}"),
    }
    out
}

/// Compares `actual` with `tests/snapshots/<name>`; `UPDATE_SNAPSHOTS=1` rewrites it.
#[track_caller]
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot `{}`; run with UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "snapshot `{name}` differs (UPDATE_SNAPSHOTS=1 to accept):\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}
