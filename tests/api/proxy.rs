//! A real nginx (Debian's `nginx-light`) in front of the app: started by the
//! tests on a free port with a config written into a temporary directory. It
//! connects to the app from 127.0.0.2 (`proxy_bind`), so the app can trust
//! exactly nginx while the test client's own 127.0.0.1 stays untrusted.

use crate::helpers::{report_skip, required};
use crate::processes::free_port;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const NGINX: &str = "/usr/sbin/nginx";
/// The address nginx connects to the app from.
pub const NGINX_ADDRESS: &str = "127.0.0.2";

/// Whether the nginx part can run; prints SKIPPED, or fails when required.
pub fn nginx_available(test: &str) -> bool {
    if Path::new(NGINX).exists() {
        return true;
    }
    let reason = format!("{NGINX} not found (apt-get install nginx-light)");
    assert!(
        !required("nginx"),
        "{test}: ROLLCALL_TEST_REQUIRE has nginx but {reason}"
    );
    report_skip(&format!("SKIPPED {test} [nginx]: {reason}"));
    false
}

/// A running nginx proxying to `127.0.0.1:{upstream}`; stopped when dropped.
pub struct Nginx {
    child: Child,
    pub address: String,
    dir: tempfile::TempDir,
}

impl Nginx {
    pub fn start(upstream: u16) -> Nginx {
        let dir = tempfile::tempdir().expect("nginx dir");
        let port = free_port();
        let prefix = dir.path().display().to_string();
        // One process (`master_process off`): nothing switches to `nobody`, so
        // the temporary directory's own modes are enough, as root or not.
        let config = format!(
            "daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_bind {NGINX_ADDRESS};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"
        );
        let config_path = dir.path().join("nginx.conf");
        std::fs::write(&config_path, config).expect("write nginx.conf");
        let child = Command::new(NGINX)
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("startup.log"))
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let mut nginx = Nginx {
            child,
            address: format!("http://127.0.0.1:{port}"),
            dir,
        };
        nginx.wait_until_listening(port);
        nginx
    }

    fn wait_until_listening(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = self.child.try_wait().expect("nginx status") {
                panic!("nginx exited ({status}): {}", self.logs());
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not listen: {}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn logs(&self) -> String {
        ["startup.log", "error.log"]
            .iter()
            .map(|name| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
