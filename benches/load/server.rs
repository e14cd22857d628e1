//! The release `rollcall` binary as a child process (so its RSS is its own),
//! and what the bench reads from it: readiness, start-up time, RSS.

use crate::helpers::TEST_SECRET;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary cargo built for this bench, in the bench profile (which
/// inherits `release`): `target/release/rollcall`.
pub const BINARY: &str = env!("CARGO_BIN_EXE_rollcall");

/// A running `rollcall` child; killed when dropped.
pub struct Rollcall {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// `rollcall <subcommand>` in the crate root (so `config/` loads) with only
/// the bench's `ROLLCALL__…` variables: warn-level logs, no rate limit, no
/// in-process email worker. Output goes to `log`.
pub fn spawn(
    subcommand: &str,
    database_url: &str,
    log: &Path,
    extra: &[(&str, String)],
) -> Rollcall {
    let port = free_port();
    let out = File::create(log).unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
    let err = out.try_clone().expect("log file handle");
    let mut command = Command::new(BINARY);
    command
        .arg(subcommand)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("ROLLCALL_ENV")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    for (name, _) in std::env::vars() {
        if name.to_ascii_uppercase().starts_with("ROLLCALL__") {
            command.env_remove(name);
        }
    }
    let base = [
        ("ROLLCALL__DATABASE__URL", database_url.to_owned()),
        ("ROLLCALL__SERVER__PORT", port.to_string()),
        (
            "ROLLCALL__SERVER__BASE_URL",
            format!("http://127.0.0.1:{port}"),
        ),
        ("ROLLCALL__SERVER__SECRET_KEY", TEST_SECRET.to_owned()),
        ("ROLLCALL__LOG__LEVEL", "warn".to_owned()),
        ("ROLLCALL__RATE_LIMIT__ENABLED", "false".to_owned()),
        ("ROLLCALL__EMAIL__WORKER_ENABLED", "false".to_owned()),
    ];
    for (name, value) in base.iter().chain(extra) {
        command.env(name, value);
    }
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {BINARY}: {e}"));
    Rollcall {
        child,
        port,
        log: log.to_owned(),
    }
}

impl Rollcall {
    /// `rollcall serve` on `database_url`.
    pub fn serve(database_url: &str, log: &Path) -> Rollcall {
        spawn("serve", database_url, log, &[])
    }

    /// `rollcall serve` with the rate limit on but never reached: every signup
    /// takes from its bucket (on PostgreSQL, one upsert in `limit_buckets`).
    pub fn serve_rate_limited(database_url: &str, log: &Path) -> Rollcall {
        let never_reached = [
            ("ROLLCALL__RATE_LIMIT__ENABLED", "true".to_owned()),
            (
                "ROLLCALL__RATE_LIMIT__PER_IP_PER_MINUTE",
                "60000".to_owned(),
            ),
            ("ROLLCALL__RATE_LIMIT__BURST", "2000000000".to_owned()),
        ];
        spawn("serve", database_url, log, &never_reached)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `GET /health` answers 200; returns how long that took from
    /// the call. Polls every 2 ms for at most 30 s; panics with the log otherwise.
    pub fn wait_ready(&mut self) -> Duration {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(30);
        while Instant::now() < deadline {
            if health_ok(self.port) {
                return started.elapsed();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "rollcall exited ({status}) before it was ready:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!("rollcall was not ready within 30 s:\n{}", self.output());
    }

    /// Resident set size now, in KiB.
    pub fn rss_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmRSS:")
    }

    /// Peak resident set size so far, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmHWM:")
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the child has exited; the bench checks this after each run.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Rollcall {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One `GET /health` over a fresh connection; true on a 200.
fn health_ok(port: u16) -> bool {
    use std::io::{Read, Write};
    let probe = || -> std::io::Result<bool> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(&head == b"HTTP/1.1 200")
    };
    probe().unwrap_or(false)
}

fn proc_status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
