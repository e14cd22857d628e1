//! rollcall behind a real nginx that only nginx's own address (127.0.0.2) is
//! trusted for: the client address and the rate limit are the real client's,
//! headers the client forges change nothing, and `/metrics` is refused
//! through the proxy.

use crate::helpers::{Backend, TestApp, spawn_app_with, valid_json};
use crate::on_both_backends;
use crate::proxy::{NGINX_ADDRESS, Nginx, nginx_available};
use serde_json::json;

on_both_backends!(
    behind_nginx_the_limit_is_the_real_clients_whatever_it_forges,
    behind_nginx_metrics_are_refused,
);

async fn app_behind_nginx(backend: Backend) -> (TestApp, Nginx) {
    let app = spawn_app_with(
        backend,
        json!({
            "rate_limit": {"enabled": true, "per_ip_per_minute": 10, "burst": 5},
            "server": {"trusted_proxies": [NGINX_ADDRESS]},
        }),
    )
    .await;
    let port = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let nginx = Nginx::start(port);
    (app, nginx)
}

async fn behind_nginx_the_limit_is_the_real_clients_whatever_it_forges(backend: Backend) {
    if !nginx_available(concat!(module_path!(), "::limit")) {
        return;
    }
    let (app, nginx) = app_behind_nginx(backend).await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let response = app
            .client
            .post(nginx.url("/api/v1/subscriptions"))
            .header("x-forwarded-for", format!("198.51.100.{i}, 10.0.0.{i}"))
            .json(&valid_json(&format!("proxied{i}@example.org")))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(&statuses[..5], &[202; 5], "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    let direct = app
        .post_json(&valid_json("direct@example.org"))
        .await
        .status();
    assert_eq!(direct, 429, "through nginx or not, 127.0.0.1 is one client");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consents WHERE ip = '127.0.0.1'"),
        5,
        "consent records keep the real client's address"
    );
}

async fn behind_nginx_metrics_are_refused(backend: Backend) {
    if !nginx_available(concat!(module_path!(), "::metrics")) {
        return;
    }
    let (app, nginx) = app_behind_nginx(backend).await;
    for forged in [None, Some("127.0.0.1"), Some("unknown")] {
        let mut request = app.client.get(nginx.url("/metrics"));
        if let Some(forged) = forged {
            request = request.header("x-forwarded-for", forged);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 404, "through nginx, forging {forged:?}");
    }
    let direct = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(direct.status(), 200, "directly from loopback");
}
