//! The servers the tests talk to, both on 127.0.0.1:0 and both spoken to through
//! [`Http`]: [`Server`], the real binary (`assetc serve` or `assetc dev`) in a child process,
//! and [`InProcess`], the library's `Mount` in an actix app on a thread of the test.

use std::cell::Cell;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::Instant;

use actix_web::{App, HttpServer};
use assetc_server::{Build, Mount, Options};

use super::http::Http;
use super::{assetc, clear_env, TIMEOUT};

/// The lines a child prints on one stream, collected by a thread as they arrive.
struct Lines {
    state: Mutex<(Vec<String>, bool)>,
    arrived: Condvar,
}

impl Lines {
    fn collect(pipe: impl Read + Send + 'static) -> Arc<Self> {
        let lines = Arc::new(Self {
            state: Mutex::new((Vec::new(), false)),
            arrived: Condvar::new(),
        });
        let writer = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                writer.state.lock().unwrap().0.push(line);
                writer.arrived.notify_all();
            }
            writer.state.lock().unwrap().1 = true;
            writer.arrived.notify_all();
        });
        lines
    }

    /// The first line at index `from` or later that `wanted` accepts, and its index; or,
    /// when the stream closes or [`TIMEOUT`] passes first, the lines seen from `from` on.
    fn wait_for(
        &self,
        from: usize,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<(usize, String), Vec<String>> {
        let deadline = Instant::now() + TIMEOUT;
        let mut state = self.state.lock().unwrap();
        let mut next = from;
        loop {
            while let Some(line) = state.0.get(next) {
                if wanted(line) {
                    return Ok((next, line.clone()));
                }
                next += 1;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if state.1 || left.is_zero() {
                return Err(state.0[from.min(state.0.len())..].to_vec());
            }
            state = self.arrived.wait_timeout(state, left).unwrap().0;
        }
    }

    /// Whether the stream closed (the process exited) within [`TIMEOUT`].
    fn wait_closed(&self) -> bool {
        let state = self.state.lock().unwrap();
        let (state, _) = self
            .arrived
            .wait_timeout_while(state, TIMEOUT, |(_, closed)| !*closed)
            .unwrap();
        state.1
    }

    fn all(&self) -> Vec<String> {
        self.state.lock().unwrap().0.clone()
    }
}

/// How to start the binary: see [`Server::serve`] and [`Server::dev`].
#[must_use]
pub struct Builder {
    dir: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    open_files: Option<u32>,
}

impl Builder {
    fn new(dir: &Path, args: &[&str]) -> Self {
        Self {
            dir: dir.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: Vec::new(),
            open_files: None,
        }
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Runs it under `ulimit -n files` (through bash), for tests of many connections.
    pub fn open_files(mut self, files: u32) -> Self {
        self.open_files = Some(files);
        self
    }

    /// Starts it and waits for its `listening on http://ADDR` line.
    pub fn start(self) -> Server {
        let mut cmd = match self.open_files {
            None => assetc(),
            Some(files) => {
                let mut cmd = Command::new("bash");
                clear_env(&mut cmd);
                cmd.arg("-c")
                    .arg(format!("ulimit -n {files} && exec \"$0\" \"$@\""))
                    .arg(env!("CARGO_BIN_EXE_assetc"));
                cmd
            }
        };
        let mut args = self.args;
        let bound = args.iter().any(|a| a == "--bind") || self.env.iter().any(|(k, _)| k == "PORT");
        if !bound {
            args.extend(["--bind".to_owned(), "127.0.0.1:0".to_owned()]);
        }
        cmd.current_dir(&self.dir)
            .args(&args)
            .envs(self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `assetc {}`: {e}", args.join(" ")));
        let stdout = Lines::collect(child.stdout.take().unwrap());
        let stderr = Lines::collect(child.stderr.take().unwrap());
        let (at, addr) = match stderr.wait_for(0, |l| l.starts_with("listening on http://")) {
            Ok((at, line)) => (at, line["listening on http://".len()..].to_owned()),
            Err(seen) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`assetc {}` printed no `listening on` line; stderr: {seen:#?}",
                    args.join(" ")
                );
            }
        };
        Server {
            child,
            addr: addr.parse().expect("a socket address"),
            stdout,
            stderr,
            stdout_read: Cell::new(0),
            stderr_read: Cell::new(at + 1),
        }
    }
}

/// A running `assetc serve` or `assetc dev`, killed on drop.
pub struct Server {
    child: Child,
    addr: SocketAddr,
    stdout: Arc<Lines>,
    stderr: Arc<Lines>,
    /// How far [`Server::wait_for_stdout`] and [`Server::wait_for_stderr`] have read.
    stdout_read: Cell<usize>,
    stderr_read: Cell<usize>,
}

impl Server {
    /// `assetc serve` plus the builder's arguments, run in `dir`, bound to 127.0.0.1:0
    /// unless the arguments say `--bind` or the environment sets `PORT`.
    pub fn serve(dir: &Path) -> Builder {
        Builder::new(dir, &["serve"])
    }

    /// `assetc dev --input assets --output dev-build` plus the builder's arguments, run in
    /// `dir`, bound to 127.0.0.1:0.
    pub fn dev(dir: &Path) -> Builder {
        Builder::new(dir, &["dev", "--input", "assets", "--output", "dev-build"])
    }

    /// The next stderr line (after the `listening on` line and any line an earlier call
    /// returned) that `wanted` accepts; fails after [`TIMEOUT`] or when the process exits.
    #[track_caller]
    pub fn wait_for_stderr(&self, wanted: impl Fn(&str) -> bool) -> String {
        next_line("stderr", &self.stderr, &self.stderr_read, wanted)
    }

    /// The same for stdout (the access log), from its first line.
    #[track_caller]
    pub fn wait_for_stdout(&self, wanted: impl Fn(&str) -> bool) -> String {
        next_line("stdout", &self.stdout, &self.stdout_read, wanted)
    }

    /// Every line it printed on stderr so far.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.all()
    }

    /// Every line it printed on stdout (the access log) so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.all()
    }

    /// The server's process id (the binary itself, also when started under `ulimit`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn sigterm(&self) {
        self.signal(rustix::process::Signal::TERM);
    }

    pub fn sighup(&self) {
        self.signal(rustix::process::Signal::HUP);
    }

    fn signal(&self, signal: rustix::process::Signal) {
        rustix::process::kill_process(rustix::process::Pid::from_child(&self.child), signal)
            .expect("signal the server");
    }

    /// Waits for the process to exit (it closes stderr then), within [`TIMEOUT`].
    #[track_caller]
    pub fn wait_exit(&mut self) -> ExitStatus {
        assert!(
            self.stderr.wait_closed(),
            "the server did not exit within {TIMEOUT:?}"
        );
        self.child.wait().expect("the exit status")
    }

    /// Fails if the process has exited or logged a panic.
    #[track_caller]
    pub fn assert_running(&mut self) {
        let status = self.child.try_wait().unwrap();
        assert!(
            status.is_none(),
            "the server exited ({status:?}); stderr: {:#?}",
            self.stderr()
        );
        let panics: Vec<String> = self
            .stderr()
            .into_iter()
            .filter(|l| l.contains("panicked"))
            .collect();
        assert!(panics.is_empty(), "the server panicked: {panics:#?}");
    }
}

/// The next line of `lines` from `read` on that `wanted` accepts; moves `read` past it.
#[track_caller]
fn next_line(
    stream: &str,
    lines: &Lines,
    read: &Cell<usize>,
    wanted: impl Fn(&str) -> bool,
) -> String {
    match lines.wait_for(read.get(), wanted) {
        Ok((at, line)) => {
            read.set(at + 1);
            line
        }
        Err(seen) => panic!("no such line on {stream} within {TIMEOUT:?}; saw {seen:#?}"),
    }
}

impl Http for Server {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The library in-process: an actix `HttpServer` with one worker on a thread of its own,
/// stopped on drop.
pub struct InProcess {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcess {
    /// The build at `root` mounted at `/`.
    pub fn start(root: &Path, options: &Options) -> Self {
        Self::start_mount(Mount::new("/", Build::open(root, options).unwrap()))
    }

    pub fn start_mount(mount: Mount) -> Self {
        Self::start_app(move || App::new().service(mount.clone()))
    }

    /// The app `factory` makes (once per worker).
    pub fn start_app<F, T>(factory: F) -> Self
    where
        F: Fn() -> App<T> + Send + Clone + 'static,
        T: actix_web::dev::ServiceFactory<
                actix_web::dev::ServiceRequest,
                Config = (),
                Response = actix_web::dev::ServiceResponse,
                Error = actix_web::Error,
                InitError = (),
            > + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(factory)
                    .workers(1)
                    .disable_signals()
                    .shutdown_timeout(1)
                    .bind(("127.0.0.1", 0))
                    .unwrap();
                let addr = server.addrs()[0];
                let server = server.run();
                tx.send((addr, server.handle())).unwrap();
                server.await.unwrap();
            })
        });
        let (addr, handle) = rx.recv_timeout(TIMEOUT).expect("the server started");
        Self {
            addr,
            handle,
            thread: Some(thread),
        }
    }
}

impl Http for InProcess {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
