//! Health, readiness and metrics.

use crate::helpers::{Backend, spawn_app, spawn_app_with, valid_json};
use crate::on_both_backends;
use serde_json::json;

on_both_backends!(
    health_and_ready_answer_200,
    metrics_count_requests_and_signups,
    metrics_need_the_token_when_one_is_set
);

async fn health_and_ready_answer_200(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(
        app.client
            .get(app.url("/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.client
            .get(app.url("/ready"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

async fn metrics_count_requests_and_signups(backend: Backend) {
    let app = spawn_app(backend).await;
    app.post_json(&valid_json("m@example.org")).await;
    app.post_json(&json!({"email": "bad"})).await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"rollcall_signups_total{outcome="accepted"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"rollcall_signups_total{outcome="invalid"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"rollcall_http_requests_total{route="/api/v1/subscriptions",status="202"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("rollcall_http_request_duration_seconds_bucket"));
}

/// With a token set, loopback alone is not enough; without the bearer it is a 404.
async fn metrics_need_the_token_when_one_is_set(backend: Backend) {
    let app = spawn_app_with(
        backend,
        json!({"server": {"metrics_token": "s3cret-metrics-token"}}),
    )
    .await;
    let url = app.url("/metrics");
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 404);
    assert_eq!(
        app.client
            .get(&url)
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.client
            .get(&url)
            .bearer_auth("s3cret-metrics-token")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

on_both_backends!(metrics_are_refused_to_a_non_loopback_client_without_a_token);

/// Without a token, only a direct loopback peer with no forwarding header may read them.
async fn metrics_are_refused_to_a_non_loopback_client_without_a_token(backend: Backend) {
    let app = spawn_app_with(
        backend,
        json!({"server": {"trusted_proxies": ["127.0.0.1"]}}),
    )
    .await;
    let url = app.url("/metrics");
    let remote = app
        .client
        .get(&url)
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(remote.status(), 404);
    for forwarded in ["127.0.0.1", "unknown", "127.0.0.1, 203.0.113.7:5000"] {
        let through_a_proxy = app
            .client
            .get(&url)
            .header("x-forwarded-for", forwarded)
            .send()
            .await
            .unwrap();
        assert_eq!(through_a_proxy.status(), 404, "forwarded for {forwarded:?}");
    }
    let direct = app.client.get(&url).send().await.unwrap();
    assert_eq!(direct.status(), 200, "a direct loopback peer");
}
