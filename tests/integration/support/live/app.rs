//! A small metrics app in the test process: serves `/metrics` and pushes the same series to a
//! Pushgateway, like `metrics-api/server.js` in the seed stack. Counters grow at fixed rates
//! from the app's start, so both paths show the same `rate()`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::http_request;

/// Series rates per second, as served. `http_requests_total` is the one that can diverge.
pub const PAGE_VIEWS_DE_PER_SECOND: f64 = 3.0;
pub const PAGE_VIEWS_US_PER_SECOND: f64 = 1.0;
pub const HTTP_REQUESTS_PER_SECOND: f64 = 4.0;

#[derive(Debug, Clone)]
pub struct PushTarget {
    pub gateway: SocketAddr,
    pub job: String,
    pub instance: String,
    pub interval: Duration,
}

#[derive(Default)]
struct Controls {
    stop: AtomicBool,
    /// Stop serving /metrics (the listener closes: connections are refused), keep pushing.
    stop_serving: AtomicBool,
    paused: AtomicBool,
    /// Milliseconds since start when pushed values began to diverge; `u64::MAX` = never.
    diverge_since_ms: AtomicU64,
    pushes: AtomicU64,
    /// Milliseconds since start of the last restart: counters count from there (0 = none).
    restarted_at_ms: AtomicU64,
    /// How long rendering /metrics takes, milliseconds.
    metrics_delay_ms: AtomicU64,
    /// Requests served (any path).
    served: AtomicU64,
}

impl Controls {
    /// Time since the app (re)started: what its counters grow with.
    fn uptime(&self, started: Instant) -> Duration {
        started
            .elapsed()
            .saturating_sub(Duration::from_millis(self.restarted_at_ms.load(Ordering::SeqCst)))
    }
}

pub struct MetricsApp {
    pub addr: SocketAddr,
    started: Instant,
    controls: Arc<Controls>,
    threads: Vec<JoinHandle<()>>,
    server: Option<JoinHandle<()>>,
}

impl MetricsApp {
    pub fn start(push: Option<PushTarget>) -> MetricsApp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|err| panic!("metrics app cannot bind: {err}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|err| panic!("metrics app has no address: {err}"));
        let controls = Arc::new(Controls {
            diverge_since_ms: AtomicU64::new(u64::MAX),
            ..Controls::default()
        });
        let started = Instant::now();
        let mut threads = Vec::new();

        let serve_controls = Arc::clone(&controls);
        let server = Some(std::thread::spawn(move || {
            for stream in listener.incoming() {
                if serve_controls.stop.load(Ordering::SeqCst) || serve_controls.stop_serving.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve(stream, &serve_controls, started);
                }
            }
            // The listener drops here: from now on connections are refused.
        }));

        if let Some(push) = push {
            let push_controls = Arc::clone(&controls);
            threads.push(std::thread::spawn(move || {
                let path = format!("/metrics/job/{}/instance/{}", push.job, push.instance);
                // Fixed deadlines, not "sleep after each push": a drifting push period beats
                // against the scrape interval and skews the pushed rate.
                let mut next_push = Instant::now();
                while !push_controls.stop.load(Ordering::SeqCst) {
                    if !push_controls.paused.load(Ordering::SeqCst) {
                        let diverge = push_controls.diverge_since_ms.load(Ordering::SeqCst);
                        let body = render(push_controls.uptime(started), Some(diverge), false);
                        if let Ok((status, _)) = http_request(push.gateway, "PUT", &path, &body, Duration::from_secs(2))
                            && status < 300
                        {
                            push_controls.pushes.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    next_push += push.interval;
                    sleep_until_unless_stopped(&push_controls.stop, next_push);
                }
            }));
        }
        MetricsApp {
            addr,
            started,
            controls,
            threads,
            server,
        }
    }

    /// The app goes down as far as anyone scraping it can tell: its port closes (connection
    /// refused). It keeps pushing, as a half-dead process might.
    pub fn stop_serving(&mut self) {
        self.controls.stop_serving.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// From now on the pushed `http_requests_total` grows twice as fast as the served one.
    pub fn diverge_pushed_values(&self, started_at: Duration) {
        let millis = u64::try_from(started_at.as_millis()).unwrap_or(u64::MAX - 1);
        self.controls.diverge_since_ms.store(millis, Ordering::SeqCst);
    }

    /// From now on the pushed `http_requests_total` grows twice as fast as the served one
    /// (no jump: the two agree up to now).
    pub fn diverge_pushed_values_from_now(&self) {
        self.diverge_pushed_values(self.started.elapsed());
    }

    /// The app restarts: every counter starts again from zero, on /metrics and in the next
    /// push alike (a counter reset both sources see, each at its own time).
    pub fn restart_counters(&self) {
        let millis = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.controls.restarted_at_ms.store(millis, Ordering::SeqCst);
    }

    /// From now on /metrics takes `delay` to render (a costly exposition).
    pub fn set_metrics_delay(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.controls.metrics_delay_ms.store(millis, Ordering::SeqCst);
    }

    /// Requests served so far, on any path.
    pub fn served_requests(&self) -> u64 {
        self.controls.served.load(Ordering::SeqCst)
    }

    /// Stop (or resume) pushing, as a dead pusher would.
    pub fn set_pushing(&self, on: bool) {
        self.controls.paused.store(!on, Ordering::SeqCst);
    }

    pub fn successful_pushes(&self) -> u64 {
        self.controls.pushes.load(Ordering::SeqCst)
    }
}

impl Drop for MetricsApp {
    fn drop(&mut self) {
        self.controls.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        for thread in self.threads.drain(..).chain(self.server.take()) {
            let _ = thread.join();
        }
    }
}

fn sleep_until_unless_stopped(stop: &AtomicBool, until: Instant) {
    while !stop.load(Ordering::SeqCst) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(20)));
    }
}

fn serve(mut stream: TcpStream, controls: &Controls, started: Instant) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(buffer.get(..n).unwrap_or_default()),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let path = request.split(' ').nth(1).unwrap_or("");
    controls.served.fetch_add(1, Ordering::SeqCst);
    let (status, body) = if path == "/metrics" {
        let delay = controls.metrics_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        ("200 OK", render(controls.uptime(started), None, true))
    } else if path == "/" {
        // The app's own page, as its users see it.
        ("200 OK", "<h1>metrics-api</h1>\n".to_string())
    } else {
        ("404 Not Found", "not found\n".to_string())
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// The exposition text at `elapsed` since start. `diverge_since_ms` applies to the pushed
/// copy; `served` adds what only the endpoint has.
fn render(elapsed: Duration, diverge_since_ms: Option<u64>, served: bool) -> String {
    let t = elapsed.as_secs_f64();
    let mut requests = HTTP_REQUESTS_PER_SECOND * t;
    if let Some(since) = diverge_since_ms.filter(|since| *since != u64::MAX) {
        let extra = (t - since as f64 / 1000.0).max(0.0);
        requests += HTTP_REQUESTS_PER_SECOND * extra;
    }
    let mut text = format!(
        "# HELP page_views_total Page views.\n\
         # TYPE page_views_total counter\n\
         page_views_total{{page=\"/\",country=\"de\"}} {:.3}\n\
         page_views_total{{page=\"/about\",country=\"us\"}} {:.3}\n\
         # HELP http_requests_total HTTP requests.\n\
         # TYPE http_requests_total counter\n\
         http_requests_total{{method=\"GET\",code=\"200\"}} {requests:.3}\n\
         # HELP request_duration_seconds Request latency.\n\
         # TYPE request_duration_seconds histogram\n\
         request_duration_seconds_bucket{{le=\"0.1\"}} {:.3}\n\
         request_duration_seconds_bucket{{le=\"+Inf\"}} {:.3}\n\
         request_duration_seconds_sum {:.3}\n\
         request_duration_seconds_count {:.3}\n\
         # HELP queue_depth Jobs waiting.\n\
         # TYPE queue_depth gauge\n\
         queue_depth 5\n",
        PAGE_VIEWS_DE_PER_SECOND * t,
        PAGE_VIEWS_US_PER_SECOND * t,
        2.0 * t,
        4.0 * t,
        0.5 * t,
        4.0 * t,
    );
    if served {
        text.push_str(
            "# HELP app_build_info Build of the app.\n\
             # TYPE app_build_info gauge\n\
             app_build_info{version=\"1.0.0\"} 1\n",
        );
    }
    text
}
