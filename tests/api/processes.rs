//! The real `rollcall` binary as a child process, for what needs a process of
//! its own: a worker killed mid-delivery, workers racing over one database,
//! and a server whose whole log output is read back.

use crate::helpers::TEST_SECRET;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `rollcall` child; killed when dropped. Its stdout and stderr go to
/// one file, so nothing blocks on a full pipe and the log can be read at the end.
pub struct RollcallProcess {
    child: Child,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl RollcallProcess {
    /// Starts `rollcall <subcommand>` in `workdir` with only the given
    /// `ROLLCALL__…` variables (inherited ones are removed, and `ROLLCALL_ENV`
    /// too, so the child reads `config/default.toml` plus exactly these).
    pub fn spawn(subcommand: &str, workdir: &Path, env: &[(&str, String)]) -> RollcallProcess {
        let log_dir = tempfile::tempdir().expect("log dir");
        let log = log_dir.path().join("output.log");
        let out = File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file handle");
        let mut command = Command::new(env!("CARGO_BIN_EXE_rollcall"));
        command
            .arg(subcommand)
            .current_dir(workdir)
            .env_remove("ROLLCALL_ENV")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for (name, _) in std::env::vars() {
            if name.to_ascii_uppercase().starts_with("ROLLCALL__") {
                command.env_remove(name);
            }
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().expect("start the rollcall binary");
        RollcallProcess {
            child,
            log,
            _log_dir: log_dir,
        }
    }

    /// `rollcall serve` in the crate root on a free port, with the in-process
    /// worker off; returns once `/health` answers, with the base URL.
    pub async fn server(database_url: &str, extra: &[(&str, String)]) -> (RollcallProcess, String) {
        let port = free_port();
        let mut env = vec![
            ("ROLLCALL__DATABASE__URL", database_url.to_owned()),
            ("ROLLCALL__SERVER__PORT", port.to_string()),
            ("ROLLCALL__SERVER__SECRET_KEY", TEST_SECRET.to_owned()),
            ("ROLLCALL__EMAIL__WORKER_ENABLED", "false".to_owned()),
            ("ROLLCALL__LOG__LEVEL", "warn".to_owned()),
        ];
        env.extend(extra.iter().map(|(name, value)| (*name, value.clone())));
        let server = Self::spawn("serve", Path::new(env!("CARGO_MANIFEST_DIR")), &env);
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while client.get(format!("{base}/health")).send().await.is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (server, base)
    }

    /// The child's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// `rollcall worker` in the crate root (so `config/` loads), sending
    /// through SMTP on `smtp_port` of 127.0.0.1; `extra` adds or overrides
    /// variables.
    pub fn worker(
        database_url: &str,
        base_url: &str,
        smtp_port: u16,
        extra: &[(&str, String)],
    ) -> RollcallProcess {
        let mut env = vec![
            ("ROLLCALL__DATABASE__URL", database_url.to_owned()),
            ("ROLLCALL__SERVER__BASE_URL", base_url.to_owned()),
            ("ROLLCALL__SERVER__SECRET_KEY", TEST_SECRET.to_owned()),
            ("ROLLCALL__EMAIL__TRANSPORT", "smtp".to_owned()),
            ("ROLLCALL__EMAIL__SMTP__HOST", "127.0.0.1".to_owned()),
            ("ROLLCALL__EMAIL__SMTP__PORT", smtp_port.to_string()),
            ("ROLLCALL__EMAIL__SMTP__TLS", "none".to_owned()),
            ("ROLLCALL__EMAIL__POLL_INTERVAL_MS", "50".to_owned()),
            ("ROLLCALL__LOG__LEVEL", "warn".to_owned()),
        ];
        for (name, value) in extra {
            env.retain(|(n, _)| n != name);
            env.push((name, value.clone()));
        }
        Self::spawn("worker", Path::new(env!("CARGO_MANIFEST_DIR")), &env)
    }

    /// Panics with the child's output if it has exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("child status") {
            panic!(
                "rollcall exited early ({status}); its output:\n{}",
                self.output()
            );
        }
    }

    /// SIGKILL: the process gets no chance to finish anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and a graceful stop (bounded); SIGKILL if it takes too long.
    pub fn terminate(&mut self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        while sent && Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        self.kill();
    }

    /// Everything the child wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for RollcallProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port that was free a moment ago (for a child that binds it itself).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
