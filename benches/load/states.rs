//! The timing figure behind "the answer never reveals whether an address is
//! known": signup (API), resend and manage, each for a new, a pending, a
//! confirmed and an unsubscribed address, interleaved from one client so that
//! the machine's drift hits every state alike. Every sample uses an address of
//! its own (an unsubscribed address turns pending after one use). The figure
//! per endpoint is the largest state median over the smallest.

use crate::client::{Client, Response};
use crate::helpers::TestDatabase;
use diesel::connection::SimpleConnection;
use rollcall::db::DbConnection;
use std::time::Instant;

pub const STATES: [&str; 4] = ["new", "pending", "confirmed", "unsubscribed"];
pub const ENDPOINTS: [&str; 3] = ["signup", "resend", "manage"];

/// The median latency in ms of each endpoint × state.
pub struct StateMedians {
    /// `[endpoint][state]`
    pub medians_ms: [[f64; 4]; 3],
}

fn address(state: &str, endpoint: &str, sample: usize) -> String {
    format!("{state}-{endpoint}-{sample}@bench.example.org")
}

/// Registrations for every known-state sample address, written in SQL (fast),
/// with no email sent yet, so that every state's request may send one. They
/// are dated today: older pending ones would be erased by the retention sweep
/// the server runs at start.
pub fn seed(database: &TestDatabase, samples: usize) {
    let mut conn = database.connect();
    let today = chrono::Utc::now().format("%Y-%m-%d 00:00:00").to_string();
    for state in ["pending", "confirmed", "unsubscribed"] {
        for endpoint in ENDPOINTS {
            seed_state(&mut conn, state, endpoint, samples, &today);
        }
    }
}

fn seed_state(conn: &mut DbConnection, state: &str, endpoint: &str, samples: usize, at: &str) {
    let last = samples.saturating_sub(1);
    let (numbers, from, email) = match conn {
        DbConnection::Sqlite(_) => (
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})"
            ),
            "FROM n".to_owned(),
            format!("'{state}-{endpoint}-' || i || '@bench.example.org'"),
        ),
        DbConnection::Postgres(_) => (
            String::new(),
            format!("FROM generate_series(0, {last}) AS i"),
            format!("'{state}-{endpoint}-' || i || '@bench.example.org'"),
        ),
    };
    let dated = format!("'{at}'");
    let (confirmed_at, confirmed_via, unsubscribed_at) = match state {
        "confirmed" => (dated.as_str(), "'link'", "NULL"),
        "unsubscribed" => (dated.as_str(), "'link'", dated.as_str()),
        _ => ("NULL", "NULL", "NULL"),
    };
    conn.batch_execute(&format!(
        "{numbers} INSERT INTO registrations (id, email, email_key, name, organisation, org_type, country,
             timezone, interests, status, source, created_at, updated_at, last_signup_at, confirmed_at,
             confirmed_via, unsubscribed_at, code_failures)
         SELECT 'bench-{state}-{endpoint}-' || i, {email}, {email}, 'Lachlan Smith', 'CSIRO', 'government',
             'AU', 'Australia/Sydney', '', '{state}', 'api', {dated}, {dated}, {dated}, {confirmed_at}, {confirmed_via}, {unsubscribed_at}, 0 {from};"
    ))
    .expect("seed registrations for the state timing");
}

/// The CSRF cookie and token of one `GET /`.
async fn csrf(client: &mut Client) -> (String, String) {
    let mut page = Vec::new();
    let response: Response = client
        .request(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            true,
            |bytes| page.extend_from_slice(bytes),
        )
        .await
        .expect("GET /");
    let cookie = response
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("a CSRF cookie")
        .to_owned();
    let page = String::from_utf8_lossy(&page);
    let marker = r#"name="csrf_token" value=""#;
    let at = page.find(marker).expect("a CSRF token") + marker.len();
    let token = page[at..].split('"').next().unwrap_or_default().to_owned();
    (cookie, token)
}

fn request(endpoint: &str, email: &str, cookie: &str, token: &str) -> Vec<u8> {
    match endpoint {
        "signup" => {
            let body = format!(
                r#"{{"email":"{email}","name":"Lachlan Smith","organisation":"CSIRO","org_type":"government","country":"AU","timezone":"Australia/Sydney","interests":[],"consent":true}}"#
            );
            format!(
                "POST /api/v1/subscriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: rollcall-bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        }
        path => {
            let body = format!(
                "email={}&csrf_token={token}",
                email.replace('@', "%40")
            );
            format!(
                "POST /subscriptions/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: rollcall-bench\r\nContent-Type: application/x-www-form-urlencoded\r\nCookie: {cookie}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        }
    }
    .into_bytes()
}

/// Runs `samples` rounds; each round sends, for every endpoint, one request
/// per state, in an order that rotates every round.
pub async fn measure(port: u16, samples: usize) -> StateMedians {
    let mut client = Client::connect(port).await.expect("connect");
    let (cookie, token) = csrf(&mut client).await;
    let mut latencies: Vec<Vec<Vec<u32>>> = vec![vec![Vec::new(); 4]; 3];
    for sample in 0..samples {
        for (e, endpoint) in ENDPOINTS.iter().enumerate() {
            for k in 0..STATES.len() {
                let s = (k + sample + e) % STATES.len();
                let email = address(STATES[s], endpoint, sample);
                let bytes = request(endpoint, &email, &cookie, &token);
                let sent = Instant::now();
                let response = client.request(&bytes, false, |_| {}).await.expect("answer");
                let took = sent.elapsed().as_micros();
                let expected = if *endpoint == "signup" { 202 } else { 303 };
                assert_eq!(response.status, expected, "{endpoint} {email}");
                latencies[e][s].push(u32::try_from(took).unwrap_or(u32::MAX));
            }
        }
    }
    let mut medians_ms = [[0.0; 4]; 3];
    for (e, per_state) in latencies.iter_mut().enumerate() {
        for (s, samples) in per_state.iter_mut().enumerate() {
            samples.sort_unstable();
            medians_ms[e][s] = f64::from(samples[samples.len() / 2]) / 1000.0;
        }
    }
    StateMedians { medians_ms }
}
