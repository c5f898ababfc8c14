//! A host HTTP/1.0 server for network tests: every request on a listener
//! is answered with one fixed body until the test ends.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

/// Serve `body` (as `content_type`) to every connection on `l`, each on a
/// thread of its own, reading the request up to its blank line first
/// (with `timeout` for a client that never sends it).
pub fn serve_http(
    l: TcpListener,
    body: &'static [u8],
    content_type: &'static str,
    timeout: Duration,
) {
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                s.set_read_timeout(Some(timeout)).unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                // The request line and headers, up to the blank line.
                while r.read_line(&mut line).map_or(false, |n| n > 0) {
                    if line == "\r\n" || line == "\n" {
                        break;
                    }
                    line.clear();
                }
                let _ = write!(
                    s,
                    "HTTP/1.0 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(body);
            });
        }
    });
}
