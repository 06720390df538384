//! A tiny HTTP server that answers what a test tells it to: a status, a broken body, or
//! nothing for a long time. Each connection gets its own thread so a slow answer blocks
//! nobody.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Canned {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<String>) -> Canned {
        Canned {
            status,
            content_type,
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn after(mut self, delay: Duration) -> Canned {
        self.delay = delay;
        self
    }
}

/// What the fake server saw of a request.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    /// Path with query.
    pub path: String,
    /// The request head (request line and headers), lowercased for easy matching.
    pub head_lowercase: String,
}

pub type Answer = fn(&SeenRequest) -> Canned;

pub struct FakeHttp {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeHttp {
    /// `answer` maps each request to the canned response.
    pub fn start(answer: Answer) -> FakeHttp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|err| panic!("fake server cannot bind: {err}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|err| panic!("fake server has no address: {err}"));
        let stop = Arc::new(AtomicBool::new(false));
        let accept_stop = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let connection_stop = Arc::clone(&accept_stop);
                    // Detached: a deliberately slow answer must not hold up Drop.
                    std::thread::spawn(move || respond(stream, answer, &connection_stop));
                }
            }
        });
        FakeHttp {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn respond(mut stream: TcpStream, answer: Answer, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(buffer.get(..n).unwrap_or_default()),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let head = request.split("\r\n\r\n").next().unwrap_or("");
    let mut words = head.split(' ');
    let seen = SeenRequest {
        method: words.next().unwrap_or("").to_string(),
        path: words.next().unwrap_or("/").to_string(),
        head_lowercase: head.to_ascii_lowercase(),
    };
    // Read the body too: closing a socket with unread input sends a reset, and the client
    // would see that instead of our answer.
    let content_length: usize = seen
        .head_lowercase
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    let mut body_read = request.len().saturating_sub(head.len() + 4);
    while body_read < content_length {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => body_read += n,
        }
    }
    let canned = answer(&seen);
    let until = Instant::now() + canned.delay;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = write!(
        stream,
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        canned.status,
        canned.content_type,
        canned.body.len(),
        canned.body
    );
}
