//! A logging proxy in front of the store, on 127.0.0.1: it records every request line in
//! the order the store receives them, so that a test sees the order `assetc publish`
//! uploads in, and it can hold every changing request past the first `n` so that a test
//! kills the publish at that exact point (the held requests are then dropped), or lets
//! another publish win a race (they are then forwarded, late). Responses are read with the
//! harness's one HTTP reader.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use crate::common::http::read_response;
use crate::common::TIMEOUT;

/// One request as the store received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    /// The path (`/bucket/key`, percent-encoded as sent), without the query.
    pub path: String,
    /// A CopyObject (`x-amz-copy-source`): new headers, no bytes sent.
    pub copy: bool,
    /// Bytes of its body.
    pub body: usize,
}

#[derive(Default)]
struct State {
    /// Every request forwarded, in order.
    log: Vec<Logged>,
    /// Changing requests (PUT, POST, DELETE) forwarded; past `limit` they are held.
    changes: usize,
    limit: Option<usize>,
    held: usize,
    /// Bumped by [`Proxy::release`] and [`Proxy::forward`]: held requests then close
    /// without being forwarded, or are forwarded after all.
    epoch: u64,
    forward_held: bool,
}

pub struct Proxy {
    addr: SocketAddr,
    state: Arc<(Mutex<State>, Condvar)>,
}

impl Proxy {
    /// A proxy to `upstream`, accepting connections on a thread of its own until the test ends.
    pub fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = connection(client, upstream, &shared);
                });
            }
        });
        Self { addr, state }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests forwarded so far, and forgets them.
    pub fn take_log(&self) -> Vec<Logged> {
        std::mem::take(&mut self.state.0.lock().unwrap().log)
    }

    /// From now on, hold every changing request after the first `n`.
    pub fn hold_after(&self, n: usize) {
        let mut state = self.state.0.lock().unwrap();
        state.changes = 0;
        state.held = 0;
        state.limit = Some(n);
    }

    /// Waits until a changing request is held (the publish can go no further).
    pub fn wait_held(&self) {
        let (lock, cvar) = &*self.state;
        let state = lock.lock().unwrap();
        let (state, timeout) = cvar
            .wait_timeout_while(state, TIMEOUT, |s| s.held == 0)
            .unwrap();
        assert!(
            !timeout.timed_out(),
            "no request was held within {TIMEOUT:?}; forwarded: {:#?}",
            state.log
        );
    }

    /// Stops holding; requests held so far are dropped unforwarded.
    pub fn release(&self) {
        self.resume(false);
    }

    /// Stops holding; requests held so far go on to the store, late.
    pub fn forward(&self) {
        self.resume(true);
    }

    fn resume(&self, forward: bool) {
        let mut state = self.state.0.lock().unwrap();
        state.limit = None;
        state.forward_held = forward;
        state.epoch += 1;
        self.state.1.notify_all();
    }
}

/// Forwards requests from `client` to `upstream` one at a time until either closes.
fn connection(
    client: TcpStream,
    upstream: SocketAddr,
    shared: &(Mutex<State>, Condvar),
) -> std::io::Result<()> {
    let mut to_client = client.try_clone()?;
    let mut from_client = BufReader::new(client);
    let mut to_store = TcpStream::connect(upstream)?;
    let mut from_store = BufReader::new(to_store.try_clone()?);
    loop {
        let (request_line, head, length) = match read_request_head(&mut from_client)? {
            Some(r) => r,
            None => return Ok(()),
        };
        let mut body = vec![0; length];
        from_client.read_exact(&mut body)?;
        let method = request_line
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_owned();
        let target = request_line.split(' ').nth(1).unwrap_or_default();
        let logged = Logged {
            method: method.clone(),
            // The path only: query strings (list-type=2&prefix=...) are noise in the order.
            path: target.split('?').next().unwrap_or_default().to_owned(),
            copy: String::from_utf8_lossy(&head)
                .to_ascii_lowercase()
                .contains("\r\nx-amz-copy-source:"),
            body: length,
        };
        {
            let (lock, cvar) = shared;
            let mut state = lock.lock().unwrap();
            if matches!(method.as_str(), "PUT" | "POST" | "DELETE") {
                if state.limit.is_some_and(|limit| state.changes >= limit) {
                    state.held += 1;
                    cvar.notify_all();
                    let epoch = state.epoch;
                    let deadline = Instant::now() + TIMEOUT * 3;
                    state = cvar
                        .wait_timeout_while(state, deadline - Instant::now(), |s| s.epoch == epoch)
                        .unwrap()
                        .0;
                    if !state.forward_held {
                        return Ok(());
                    }
                }
                state.changes += 1;
            }
            state.log.push(logged);
        }
        to_store.write_all(&head)?;
        to_store.write_all(&body)?;
        let response = read_response(&mut from_store, method == "HEAD")?;
        // `raw` holds every byte read: the head and the body as framed.
        to_client.write_all(&response.raw)?;
    }
}

/// The request line, every byte of the head, and the body's Content-Length; None at a clean
/// close before a request.
fn read_request_head(
    reader: &mut impl BufRead,
) -> std::io::Result<Option<(String, Vec<u8>, usize)>> {
    let mut head = Vec::new();
    let mut first = String::new();
    let mut length = 0;
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(std::io::Error::other("a request head cut short"))
            };
        }
        head.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if text.is_empty() {
            return Ok(Some((first, head, length)));
        }
        if first.is_empty() {
            first = text.to_owned();
        } else if let Some((name, value)) = text.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().map_err(std::io::Error::other)?;
            }
            assert!(
                !name.eq_ignore_ascii_case("transfer-encoding"),
                "the proxy forwards Content-Length bodies only: {text}"
            );
        }
    }
}
