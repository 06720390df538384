//! `LiveStack`: a real Pushgateway and a real Prometheus on free loopback ports, plus the
//! metrics app pushing to the one and scraped by the other. Started in a temporary
//! directory, ready when `/-/ready` says so, stopped by pid on Drop. Server logs are printed
//! when the test fails.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pullover::live::{Endpoint, PrometheusClient, PushgatewayClient, RetryPolicy};

use super::app::{MetricsApp, PushTarget};
use super::{free_port, http_request};

pub const PROMETHEUS_BIN: &str = "prometheus";
/// Debian's name; upstream calls it `pushgateway`.
pub const PUSHGATEWAY_BIN: &str = "prometheus-pushgateway";

/// How long a server may take to become ready, and to stop after SIGTERM.
const READY_DEADLINE: Duration = Duration::from_secs(20);
const STOP_DEADLINE: Duration = Duration::from_secs(5);

/// The pushed group and the scrape job of the seed stack: same job name, told apart by
/// instance (docs/label-facts.md, honor_labels).
pub const APP_JOB: &str = "metrics-api";
pub const PUSHED_INSTANCE: &str = "app-1";
pub const GATEWAY_JOB: &str = "pushgateway";

#[derive(Debug, Clone)]
pub struct StackOptions {
    pub lifecycle: bool,
    pub honor_labels: bool,
    pub scrape_interval: &'static str,
    pub push_interval: Duration,
    /// The `job` the app pushes under (`/metrics/job/<job>/…`).
    pub pushed_job: &'static str,
}

impl Default for StackOptions {
    fn default() -> Self {
        StackOptions {
            lifecycle: true,
            honor_labels: true,
            scrape_interval: "1s",
            push_interval: Duration::from_secs(1),
            pushed_job: APP_JOB,
        }
    }
}

/// A child process we started, stopped by its pid.
pub struct ServerProcess {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub log: PathBuf,
    pub ready_after: Duration,
    child: Child,
}

impl ServerProcess {
    pub fn spawn(name: &'static str, program: &str, args: &[String], addr: SocketAddr, dir: &Path) -> Self {
        let log = dir.join(format!("{name}.log"));
        let log_file = File::create(&log).unwrap_or_else(|err| panic!("cannot create {}: {err}", log.display()));
        let log_err = log_file
            .try_clone()
            .unwrap_or_else(|err| panic!("cannot clone log handle: {err}"));
        let started = Instant::now();
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err);
        // If the test process dies without running Drop (killed by a timeout), the kernel
        // stops the server too instead of leaving it listening. The signal follows the
        // *thread* that spawned the server, so start stacks on the test's own thread (not in
        // spawn_blocking, whose threads come and go).
        unsafe {
            use std::os::unix::process::CommandExt;
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {program}: {err}"));
        let mut process = ServerProcess {
            name,
            addr,
            log,
            ready_after: Duration::ZERO,
            child,
        };
        process.wait_ready(started);
        process
    }

    /// Polls `/-/ready` (no fixed sleeps); fails fast if the process exits.
    fn wait_ready(&mut self, started: Instant) {
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited with {status} before it was ready; log:\n{}",
                    self.name,
                    read_log(&self.log)
                );
            }
            if let Ok((200, _)) = http_request(self.addr, "GET", "/-/ready", "", Duration::from_millis(500)) {
                self.ready_after = started.elapsed();
                return;
            }
            if started.elapsed() > READY_DEADLINE {
                panic!(
                    "{} not ready after {READY_DEADLINE:?}; log:\n{}",
                    self.name,
                    read_log(&self.log)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// SIGTERM, wait (reaping the child, so no zombie is mistaken for a live process), then
    /// SIGKILL after [`STOP_DEADLINE`]. Returns how long the stop took.
    pub fn stop(&mut self) -> Duration {
        let started = Instant::now();
        if let Ok(Some(_)) = self.child.try_wait() {
            return Duration::ZERO;
        }
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) on the pid of our own, not yet reaped child.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        while started.elapsed() < STOP_DEADLINE {
            if let Ok(Some(_)) = self.child.try_wait() {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!("{} ignored SIGTERM for {STOP_DEADLINE:?}; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
        started.elapsed()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

pub struct LiveStack {
    /// Declared first so the servers stop before the directory goes.
    pub prometheus: ServerProcess,
    pub pushgateway: ServerProcess,
    pub app: MetricsApp,
    pub options: StackOptions,
    pub config_path: PathBuf,
    dir: tempfile::TempDir,
}

/// Where the binaries are, or why the test cannot run. In CI a missing binary fails the
/// test; elsewhere the test prints a skip line and passes.
pub fn binaries_or_skip(test: &str) -> bool {
    let missing: Vec<&str> = [PROMETHEUS_BIN, PUSHGATEWAY_BIN]
        .into_iter()
        .filter(|bin| find_in_path(bin).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{} not found in PATH; install the Debian packages prometheus and \
         prometheus-pushgateway (the test script does: apt-get install -y prometheus \
         prometheus-pushgateway)",
        missing.join(" and ")
    );
    if std::env::var_os("CI").is_some_and(|value| !value.is_empty()) {
        panic!("{test}: {message}");
    }
    // Straight to stderr: libtest captures eprintln! of passing tests, and a skip must show.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIP {test}: {message}");
    false
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| format!("(cannot read log: {err})"))
}

impl LiveStack {
    /// `None` when the binaries are missing outside CI (a skip line is printed).
    pub fn start(test: &str, options: StackOptions) -> Option<LiveStack> {
        LiveStack::start_with(test, options, |dir, options, gateway, app| {
            let path = dir.join("prometheus.yml");
            let config = prometheus_config(options, gateway, app, &[]);
            std::fs::write(&path, config).unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
            path
        })
    }

    /// Like [`LiveStack::start`], but `write_config` writes the configuration Prometheus loads
    /// (given the temp dir, the gateway's and the app's address) and returns its path: a
    /// stack's own prometheus.yml, so that `pullover apply --reload` changes what runs.
    pub fn start_with(
        test: &str,
        options: StackOptions,
        write_config: impl FnOnce(&Path, &StackOptions, SocketAddr, SocketAddr) -> PathBuf,
    ) -> Option<LiveStack> {
        if !binaries_or_skip(test) {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("pullover-live-")
            .tempdir()
            .unwrap_or_else(|err| panic!("cannot create a temp dir: {err}"));

        let gateway_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let pushgateway = ServerProcess::spawn(
            "pushgateway",
            PUSHGATEWAY_BIN,
            &[
                format!("--web.listen-address={gateway_addr}"),
                // Debian's build defaults to /var/lib/prometheus/pushgateway.data: every
                // test gateway would share (and restore) one file. Memory only.
                "--persistence.file=".to_string(),
            ],
            gateway_addr,
            dir.path(),
        );
        let app = MetricsApp::start(Some(PushTarget {
            gateway: gateway_addr,
            job: options.pushed_job.into(),
            instance: PUSHED_INSTANCE.into(),
            interval: options.push_interval,
        }));

        let config_path = write_config(dir.path(), &options, gateway_addr, app.addr);
        let prometheus_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let mut args = vec![
            format!("--config.file={}", config_path.display()),
            format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            format!("--web.listen-address={prometheus_addr}"),
        ];
        if options.lifecycle {
            args.push("--web.enable-lifecycle".into());
        }
        let prometheus = ServerProcess::spawn("prometheus", PROMETHEUS_BIN, &args, prometheus_addr, dir.path());
        Some(LiveStack {
            prometheus,
            pushgateway,
            app,
            options,
            config_path,
            dir,
        })
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn prometheus_endpoint(&self) -> Endpoint {
        Endpoint::new(&self.prometheus.url())
            .unwrap_or_else(|err| panic!("{err}"))
            .with_timeout(Duration::from_secs(5))
            .with_retry(RetryPolicy {
                overall_timeout: Duration::from_secs(10),
                ..RetryPolicy::default()
            })
    }

    pub fn prometheus_client(&self) -> PrometheusClient {
        PrometheusClient::new(self.prometheus_endpoint()).unwrap_or_else(|err| panic!("{err}"))
    }

    pub fn pushgateway_client(&self) -> PushgatewayClient {
        let endpoint = Endpoint::new(&self.pushgateway.url())
            .unwrap_or_else(|err| panic!("{err}"))
            .with_timeout(Duration::from_secs(5));
        PushgatewayClient::new(endpoint).unwrap_or_else(|err| panic!("{err}"))
    }

    /// The stack's configuration with more job blocks appended (already indented YAML list
    /// items).
    pub fn config_with(&self, extra_jobs: &[&str]) -> String {
        prometheus_config(&self.options, self.pushgateway.addr, self.app.addr, extra_jobs)
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(&self.config_path, text)
            .unwrap_or_else(|err| panic!("cannot write {}: {err}", self.config_path.display()));
    }

    pub fn app_instance(&self) -> String {
        self.app.addr.to_string()
    }

    fn print_logs(&self) {
        for server in [&self.pushgateway, &self.prometheus] {
            eprintln!(
                "----- {} log ({}) -----\n{}",
                server.name,
                server.log.display(),
                read_log(&server.log)
            );
        }
    }
}

impl Drop for LiveStack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.print_logs();
        }
        // Fields drop in order: prometheus, pushgateway, app, then the temp dir.
    }
}

pub fn prometheus_config(options: &StackOptions, gateway: SocketAddr, app: SocketAddr, extra_jobs: &[&str]) -> String {
    let mut config = format!(
        "global:\n  scrape_interval: {interval}\n  scrape_timeout: {interval}\n\
         scrape_configs:\n\
         \x20 - job_name: {GATEWAY_JOB}\n\
         \x20   honor_labels: {honor}\n\
         \x20   static_configs:\n\
         \x20     - targets: ['{gateway}']\n\
         \x20 - job_name: {APP_JOB}\n\
         \x20   static_configs:\n\
         \x20     - targets: ['{app}']\n",
        interval = options.scrape_interval,
        honor = options.honor_labels,
    );
    for job in extra_jobs {
        config.push_str(job);
    }
    config
}
