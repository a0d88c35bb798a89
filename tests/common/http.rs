//! One HTTP/1.1 client for every server test: requests written as raw bytes (clients
//! normalise paths, and hostile targets need the bytes as written) and responses read by
//! their framing (status line, headers, then `Content-Length` bytes, chunks, or nothing for
//! HEAD, 304, 204 and 1xx), so that a body of the wrong length or one that should not be
//! there shows up as bytes left over: a desync, which fails the test.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};

use super::TIMEOUT;

/// One response as read off the wire.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// In order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// Every byte read for it, interim 1xx responses included.
    pub raw: Vec<u8>,
}

impl Response {
    /// Every header but Date (the one that changes between two answers), sorted: what two
    /// answers that must agree are compared by.
    pub fn headers_but_date(&self) -> Vec<(String, String)> {
        let mut h: Vec<_> = self
            .headers
            .iter()
            .filter(|(n, _)| n != "date")
            .cloned()
            .collect();
        h.sort();
        h
    }

    /// The header `name` (lowercase), which must not appear twice.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut all = self.headers.iter().filter(|(n, _)| n == name);
        let first = all.next().map(|(_, v)| v.as_str());
        assert!(
            all.next().is_none(),
            "several `{name}` headers: {:?}",
            self.headers
        );
        first
    }

    pub fn has(&self, name: &str) -> bool {
        self.headers.iter().any(|(n, _)| n == name)
    }

    /// The header, which must be there.
    #[track_caller]
    pub fn h(&self, name: &str) -> &str {
        self.header(name)
            .unwrap_or_else(|| panic!("no `{name}` in {} {:?}", self.status, self.headers))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Checks what every response of the origin carries: a valid IMF-fixdate `Date`
    /// (RFC 9110 §6.6.1), `nosniff`, and no `Content-Length` on a 304.
    #[track_caller]
    pub fn check_common(&self) -> &Self {
        let date = self.h("date");
        assert!(
            assetc_server::date::parse_http_date(date.as_bytes(), 2026).is_some()
                && date.ends_with(" GMT")
                && date.len() == 29,
            "Date {date:?}"
        );
        assert_eq!(self.h("x-content-type-options"), "nosniff");
        if let Some(length) = self.header("content-length") {
            assert_ne!(self.status, 304, "a 304 with Content-Length");
            let _: u64 = length.parse().expect("a numeric Content-Length");
        }
        self
    }
}

fn read_line(reader: &mut impl BufRead, raw: &mut Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let n = reader.by_ref().take(1 << 20).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(std::io::Error::new(
            ErrorKind::UnexpectedEof,
            "the connection closed",
        ));
    }
    raw.extend_from_slice(&line);
    if !line.ends_with(b"\n") {
        return Err(std::io::Error::other("a line over 1 MiB, or cut short"));
    }
    Ok(line)
}

/// Reads one response, skipping interim 1xx ones. `head`: it answers a HEAD, so it has no
/// body whatever its headers say.
pub fn read_response(reader: &mut impl BufRead, head: bool) -> std::io::Result<Response> {
    let mut response = read_head(reader)?;
    if !head {
        read_body(reader, &mut response)?;
    }
    Ok(response)
}

/// The status line and headers of the next final response (1xx ones skipped).
pub fn read_head(reader: &mut impl BufRead) -> std::io::Result<Response> {
    let mut raw = Vec::new();
    loop {
        let line = read_line(reader, &mut raw)?;
        let text = String::from_utf8_lossy(&line);
        let status: u16 = text
            .strip_prefix("HTTP/1.1 ")
            .or_else(|| text.strip_prefix("HTTP/1.0 "))
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not a status line: {text:?}")))?;
        let mut headers = Vec::new();
        loop {
            let line = read_line(reader, &mut raw)?;
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| std::io::Error::other(format!("not a header: {line:?}")))?;
            headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
        }
        if !(100..200).contains(&status) {
            return Ok(Response {
                status,
                headers,
                body: Vec::new(),
                raw,
            });
        }
    }
}

/// The body that follows `response`'s head, by its framing (RFC 9112 §6.3): none for 304
/// and 204, chunks, `Content-Length` bytes, or everything up to the close.
fn read_body(reader: &mut impl BufRead, response: &mut Response) -> std::io::Result<()> {
    if response.status == 304 || response.status == 204 {
        return Ok(());
    }
    let chunked = response
        .headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let length = response
        .headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.clone());
    if chunked {
        loop {
            let line = read_line(reader, &mut response.raw)?;
            let size = String::from_utf8_lossy(&line);
            let size = size.trim().split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {size:?}")))?;
            if size == 0 {
                // Trailers, if any, up to the empty line.
                while read_line(reader, &mut response.raw)? != b"\r\n" {}
                return Ok(());
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            response.raw.extend_from_slice(&chunk);
            if !chunk.ends_with(b"\r\n") {
                return Err(std::io::Error::other("a chunk not followed by CRLF"));
            }
            response.body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = length {
        let length: usize = length
            .parse()
            .map_err(|_| std::io::Error::other(format!("bad Content-Length {length:?}")))?;
        let mut body = vec![0; length];
        reader.read_exact(&mut body).map_err(|e| {
            std::io::Error::new(e.kind(), format!("a body cut short of {length} bytes: {e}"))
        })?;
        response.raw.extend_from_slice(&body);
        response.body = body;
    } else {
        reader.read_to_end(&mut response.body)?;
        response.raw.extend_from_slice(&response.body);
    }
    Ok(())
}

/// After a response to a `Connection: close` request: the close, with nothing before it.
fn expect_close(reader: &mut impl Read, response: &Response) -> Result<(), String> {
    let mut rest = Vec::new();
    match reader.read_to_end(&mut rest) {
        Ok(_) => {}
        // A server closing on a bad request may reset the connection after answering.
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => return Err(format!("after the response: {e}")),
    }
    if rest.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} bytes after the {} response (a body where none belongs, or a wrong \
         Content-Length): {:?}",
        rest.len(),
        response.status,
        String::from_utf8_lossy(&rest[..rest.len().min(200)])
    ))
}

/// A GET whose head has arrived while its body is still being sent.
pub struct InFlight {
    reader: BufReader<TcpStream>,
    /// The response so far: status and headers, no body yet.
    pub head: Response,
}

impl InFlight {
    /// Reads the rest of the body by its framing (a body cut short fails) and the close.
    #[track_caller]
    pub fn finish(mut self) -> Response {
        let mut response = self.head;
        read_body(&mut self.reader, &mut response).expect("the rest of the response");
        expect_close(&mut self.reader, &response).unwrap();
        response
    }
}

/// `METHOD target HTTP/1.1` with a Host, `Connection: close` and `headers`.
pub fn request(method: &str, target: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.into_bytes()
}

/// A server listening on a socket: requests to it over a new connection each.
pub trait Http {
    fn addr(&self) -> SocketAddr;

    /// A new connection, reads and writes bounded by [`TIMEOUT`].
    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr()).expect("connect to the server");
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        stream
    }

    /// Sends `request` as written (it should say `Connection: close`) and reads its one
    /// response; fails if any byte follows that response before the close.
    #[track_caller]
    fn raw(&self, request: &[u8]) -> Response {
        self.try_raw(request).unwrap_or_else(|e| {
            panic!(
                "{:?}: {e}",
                String::from_utf8_lossy(&request[..request.len().min(200)])
            )
        })
    }

    /// [`Http::raw`] that reports what went wrong instead of failing (for load tests).
    fn try_raw(&self, request: &[u8]) -> Result<Response, String> {
        let mut stream = TcpStream::connect(self.addr()).map_err(|e| format!("connect: {e}"))?;
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream
            .write_all(request)
            .map_err(|e| format!("write: {e}"))?;
        let mut reader = BufReader::new(stream);
        let response = read_response(&mut reader, request.starts_with(b"HEAD "))
            .map_err(|e| format!("read: {e}"))?;
        expect_close(&mut reader, &response)?;
        Ok(response)
    }

    #[track_caller]
    fn request(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
        self.raw(&request(method, target, headers))
    }

    #[track_caller]
    fn get(&self, target: &str) -> Response {
        self.request("GET", target, &[])
    }

    #[track_caller]
    fn get_with(&self, target: &str, headers: &[(&str, &str)]) -> Response {
        self.request("GET", target, headers)
    }

    #[track_caller]
    fn head(&self, target: &str) -> Response {
        self.request("HEAD", target, &[])
    }

    /// Sends a GET of `target` and reads the head of its response, which must be a 200,
    /// leaving the body in flight.
    #[track_caller]
    fn start_get(&self, target: &str) -> InFlight {
        let mut stream = self.connect();
        stream.write_all(&request("GET", target, &[])).unwrap();
        let mut reader = BufReader::new(stream);
        let head = read_head(&mut reader).expect("the head of the response");
        assert_eq!(head.status, 200, "{target}: {:?}", head.headers);
        InFlight { reader, head }
    }
}

/// Any address is a server to talk to (for threads that cannot hold the server itself).
impl Http for SocketAddr {
    fn addr(&self) -> SocketAddr {
        *self
    }
}
