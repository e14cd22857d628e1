//! The API described: `GET /api/v1/openapi.json` is OpenAPI 3.1 naming every JSON
//! route, every documented route is mounted, and every refusal under `/api/` is
//! JSON with `Content-Type: application/json`.

use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with, valid_json};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    every_refusal_under_api_is_json,
    over_the_rate_limit_the_api_answers_json_429
);

async fn document(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_openapi_3_1_and_names_every_json_route() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    // It reads back as an OpenAPI document, not just as JSON.
    let typed: utoipa::openapi::OpenApi = serde_json::from_value(doc.clone()).unwrap();
    assert!(typed.paths.paths.contains_key("/api/v1/subscriptions"));
    let signup = &doc["paths"]["/api/v1/subscriptions"]["post"];
    let statuses: Vec<&str> = signup["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        statuses,
        ["202", "400", "413", "415", "422", "429", "503"],
        "every documented status of the signup API"
    );
    for (status, response) in signup["responses"].as_object().unwrap() {
        assert!(
            response["content"]["application/json"]["schema"].is_object(),
            "{status} has a JSON body"
        );
    }
    let request = &doc["components"]["schemas"]["SignupRequest"];
    assert!(
        request.get("required").is_none(),
        "every field is optional, as the handler reads it: {request}"
    );
    assert_eq!(
        request["properties"]["consent"]["type"],
        json!(["boolean", "null"])
    );
    assert_eq!(
        request["properties"]["interests"]["type"],
        json!(["array", "null"])
    );
    assert!(doc["paths"]["/api/v1/openapi.json"]["get"].is_object());
}

/// The route table is the document: every documented operation is mounted (it
/// answers with one of its documented statuses, not the JSON 404), and a path
/// under `/api` that is not in the document answers the JSON 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_is_mounted_and_nothing_else_is() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc = document(&app).await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 2);
    for (path, operations) in paths {
        assert!(path.starts_with("/api/v1/"), "{path}");
        for (method, operation) in operations.as_object().unwrap() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app
                .client
                .request(method.clone(), app.url(path))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_str().to_owned();
            assert!(
                operation["responses"].get(&status).is_some(),
                "{method} {path} answered {status}, which its description does not list"
            );
        }
    }
    let unknown = app
        .client
        .get(app.url("/api/v1/not-a-route"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.headers()["content-type"], "application/json");
    assert_eq!(
        unknown.json::<Value>().await.unwrap(),
        json!({"error": "not found"})
    );
}

/// A refusal's status, and its body once checked to be JSON with the right type.
async fn json_refusal(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{status} under /api/ is JSON"
    );
    (status, response.json().await.unwrap())
}

fn has_error_sentence(body: &Value) -> bool {
    body["error"].as_str().is_some_and(|s| !s.is_empty())
}

async fn every_refusal_under_api_is_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = app.url("/api/v1/subscriptions");
    let post = |content_type: &'static str, body: Vec<u8>| {
        app.client
            .post(&url)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let (status, body) =
        json_refusal(post("application/json", b"[1]".to_vec()).await.unwrap()).await;
    assert_eq!(status, 400);
    assert!(has_error_sentence(&body), "{body}");
    let (status, body) = json_refusal(
        post("application/json", b"{\"email\":".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(has_error_sentence(&body), "{body}");
    let (status, body) = json_refusal(post("text/plain", b"{}".to_vec()).await.unwrap()).await;
    assert_eq!(status, 415);
    assert!(has_error_sentence(&body), "{body}");
    let over = vec![b' '; app.settings.server.max_body_bytes + 1];
    let (status, body) = json_refusal(post("application/json", over).await.unwrap()).await;
    assert_eq!(status, 413);
    assert!(has_error_sentence(&body), "{body}");
    let (status, body) = json_refusal(
        post("application/json", b"{\"consent\":\"yes\"}".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"]["consent"], json!(["must be true or false"]));
    assert_eq!(body["errors"]["email"], json!(["required"]));
    let wrong_method = app.client.get(&url).send().await.unwrap();
    let (status, body) = json_refusal(wrong_method).await;
    assert!(status == 404 || status == 405, "{status}");
    assert!(has_error_sentence(&body), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 0);
}

async fn over_the_rate_limit_the_api_answers_json_429(backend: Backend) {
    let app = spawn_app_with(
        backend,
        json!({"rate_limit": {"enabled": true, "per_ip_per_minute": 1, "burst": 1}}),
    )
    .await;
    let mut refused = None;
    for i in 0..3 {
        let response = app
            .post_json(&valid_json(&format!("limit{i}@example.org")))
            .await;
        if response.status() == 429 {
            refused = Some(response);
            break;
        }
    }
    let response = refused.expect("a 429 within three requests");
    assert!(response.headers().contains_key("retry-after"));
    let (status, body) = json_refusal(response).await;
    assert_eq!(status, 429);
    assert!(has_error_sentence(&body), "{body}");
}

/// With the database locked past SQLite's busy timeout, the signup API answers
/// 503 with `Retry-After`, as JSON. (The middleware is the same on PostgreSQL.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unavailable_database_gives_a_json_503() {
    use diesel::connection::SimpleConnection;
    let app = spawn_app(Backend::Sqlite).await;
    let path = app
        .database
        .raw_url
        .trim_start_matches("sqlite://")
        .to_owned();
    let mut holder = <diesel::SqliteConnection as diesel::Connection>::establish(&path).unwrap();
    holder.batch_execute("BEGIN EXCLUSIVE").unwrap();
    let response = app.post_json(&valid_json("locked@example.org")).await;
    holder.batch_execute("ROLLBACK").unwrap();
    assert!(response.headers().contains_key("retry-after"));
    let (status, body) = json_refusal(response).await;
    assert_eq!(status, 503);
    assert!(has_error_sentence(&body), "{body}");
}
