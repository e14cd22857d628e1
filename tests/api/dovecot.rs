//! A real Dovecot (Debian's `dovecot-imapd`) holding the bounce mailbox:
//! started by a test as root with `dovecot -F -c CONFIG`, everything (base,
//! state, log, Maildir) inside the test's temporary directory, IMAP without
//! TLS on a free port of 127.0.0.1, one passwd-file user whose mail belongs to
//! the `dovecot` system user. It can be stopped (connections refused) and
//! started again on the same port with the same mail.

use crate::helpers::{report_skip, required};
use crate::processes::free_port;
use async_imap::types::Flag;
use futures_util::TryStreamExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

pub const DOVECOT: &str = "/usr/sbin/dovecot";
pub const DOVEADM: &str = "/usr/bin/doveadm";
pub const USER: &str = "bounces";
pub const PASSWORD: &str = "a-mailbox-password";

/// Whether the imap part can run (Dovecot installed, and we are root, which
/// its master process needs); prints SKIPPED, or fails when required.
pub fn dovecot_available(test: &str) -> bool {
    let reason = if !Path::new(DOVECOT).exists() || !Path::new(DOVEADM).exists() {
        format!("{DOVECOT} not found (apt-get install dovecot-imapd)")
    } else if system_user("dovecot").is_none() {
        "no dovecot system user (apt-get install dovecot-imapd)".to_owned()
    } else if !is_root() {
        "Dovecot's master process must start as root".to_owned()
    } else {
        return true;
    };
    assert!(
        !required("imap"),
        "{test}: ROLLCALL_TEST_REQUIRE has imap but {reason}"
    );
    report_skip(&format!("SKIPPED {test} [imap]: {reason}"));
    false
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next().map(|uid| uid == "0"))
            .unwrap_or(false)
    })
}

/// The uid and gid of a system user, from /etc/passwd.
fn system_user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&name) && fields.len() > 3)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    })
}

/// A running Dovecot; stopped when dropped.
pub struct Dovecot {
    child: Option<Child>,
    pub port: u16,
    config: PathBuf,
    dir: tempfile::TempDir,
}

impl Dovecot {
    pub fn start() -> Dovecot {
        let dir = tempfile::tempdir().expect("dovecot dir");
        let root = dir.path();
        // Its unprivileged processes must be able to enter the directory.
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let (uid, gid) = system_user("dovecot").expect("the dovecot user");
        let mail = root.join("mail");
        std::fs::create_dir(&mail).unwrap();
        std::os::unix::fs::chown(&mail, Some(uid), Some(gid)).unwrap();
        std::fs::write(
            root.join("passwd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n"),
        )
        .unwrap();
        let port = free_port();
        let prefix = root.display();
        let config = format!(
            "base_dir = {prefix}/run
state_dir = {prefix}/state
log_path = {prefix}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
mail_location = maildir:{prefix}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {prefix}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={prefix}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"
        );
        let config_path = root.join("dovecot.conf");
        std::fs::write(&config_path, config).unwrap();
        let mut dovecot = Dovecot {
            child: None,
            port,
            config: config_path,
            dir,
        };
        dovecot.start_again();
        dovecot
    }

    /// Starts it (again) on the same port with the same mail.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "dovecot is already running");
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dovecot");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("dovecot exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "dovecot did not listen: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Stops it (SIGTERM, then waits): connections are refused until
    /// [`Dovecot::start_again`].
    pub fn stop(&mut self) {
        self.halt();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "dovecot still listens");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// SIGTERM to the master, which stops its children; SIGKILL after 10 s.
    fn halt(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// The app's `email.bounce.imap` settings for this mailbox.
    pub fn settings(&self) -> serde_json::Value {
        serde_json::json!({
            "host": "127.0.0.1",
            "port": self.port,
            "tls": "none",
            "username": USER,
            "password": PASSWORD,
            "poll_secs": 60,
        })
    }

    async fn session(&self) -> async_imap::Session<TcpStream> {
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap().expect("greeting");
        client
            .login(USER, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .unwrap()
    }

    /// Appends a raw message to INBOX over IMAP, as mail arriving would.
    pub async fn append(&self, raw: &[u8]) {
        let mut session = self.session().await;
        session.append("INBOX", None, None, raw).await.unwrap();
        session.logout().await.unwrap();
    }

    /// Every message in INBOX: its UID and whether it is `\Seen`.
    pub async fn messages(&self) -> Vec<(u32, bool)> {
        let mut session = self.session().await;
        let inbox = session.examine("INBOX").await.unwrap();
        let mut found = Vec::new();
        if inbox.exists > 0 {
            let fetches: Vec<_> = session
                .uid_fetch("1:*", "(UID FLAGS)")
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            for fetch in &fetches {
                let seen = fetch.flags().any(|f| f == Flag::Seen);
                found.push((fetch.uid.unwrap(), seen));
            }
        }
        session.logout().await.unwrap();
        found.sort_unstable();
        found
    }

    /// Gives INBOX a new UIDVALIDITY, as a mailbox rebuilt on the server would.
    pub fn set_uid_validity(&self, value: u32) {
        let status = Command::new(DOVEADM)
            .arg("-c")
            .arg(&self.config)
            .args(["mailbox", "update", "-u", USER, "--uid-validity"])
            .arg(value.to_string())
            .arg("INBOX")
            .status()
            .expect("run doveadm");
        assert!(status.success(), "doveadm mailbox update: {status}");
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.halt();
    }
}
