//! Group commit: concurrent signups share write transactions, and every rule
//! that holds one at a time still holds.

use crate::helpers::{Backend, spawn_app, valid_json};
use crate::on_both_backends;
use futures_util::future::join_all;

on_both_backends!(
    two_hundred_concurrent_signups_commit_in_fewer_transactions_with_every_rule_intact
);

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn two_hundred_concurrent_signups_commit_in_fewer_transactions_with_every_rule_intact(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    // 150 new addresses, and one address signing up 50 times at once.
    let mut bodies: Vec<serde_json::Value> = (0..150)
        .map(|i| valid_json(&format!("crowd{i}@example.org")))
        .collect();
    bodies.extend((0..50).map(|_| valid_json("eager@example.org")));
    let client = reqwest::Client::new();
    let url = app.url("/api/v1/subscriptions");
    let answers = join_all(bodies.iter().map(|b| client.post(&url).json(b).send())).await;
    let mut shapes = Vec::new();
    for answer in answers {
        let answer = answer.unwrap();
        shapes.push((answer.status().as_u16(), answer.text().await.unwrap()));
    }
    assert!(
        shapes
            .iter()
            .all(|s| s == &(202, r#"{"status":"pending"}"#.to_owned())),
        "every answer the same"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 151);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger WHERE event = 'signup'"),
        151,
        "a signup inside the cooldown changes nothing"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM signup_attempts"),
        49,
        "but it writes its attempt row"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'confirmation'"),
        151,
        "one email per address"
    );
    let text = client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let batches = metric(&text, "rollcall_db_write_batches_total");
    let signups_in_batches = metric(&text, "rollcall_db_write_batch_size_sum");
    println!("200 signups committed in {batches} transactions");
    assert_eq!(signups_in_batches, 200.0);
    assert!(batches < 200.0, "{batches} transactions for 200 signups");
}
