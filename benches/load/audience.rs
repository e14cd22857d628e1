//! The audience page at 100,000 registrations: the median time of one page for
//! the shapes organisers ask for (a search that finds one person, one that
//! finds nobody and so reads every row, filters, each sort, a page deep in the
//! list), each beside a fixed limit of 100 ms, within which a page feels
//! immediate.

use crate::client::Client;
use crate::export;
use crate::helpers::TestDatabase;
use crate::server::Rollcall;
use std::time::Instant;

pub const ROWS: i64 = 100_000;
const SAMPLES: usize = 21;
const TOKEN: &str = export::TOKEN;

/// (figure name, query).
const SHAPES: [(&str, &str); 7] = [
    ("first_page", ""),
    ("q_one_person", "q=person54321"),
    ("q_nobody", "q=nobody-matches-this"),
    (
        "filters",
        "country=FJ&timezone=Pacific/Fiji&org_type=industry",
    ),
    ("sort_name", "sort=name"),
    ("sort_email", "sort=email&dir=desc"),
    ("sort_confirmed", "sort=confirmed"),
];

/// Seeds the registrations and an organiser token.
pub fn seed(database: &TestDatabase) {
    export::seed(&mut database.connect(), ROWS);
}

/// Median milliseconds per shape, then for the 20th page of the default list.
pub async fn measure(database: &TestDatabase, log: &std::path::Path) -> Vec<(String, f64)> {
    let mut server = Rollcall::serve(&database.raw_url, log);
    server.wait_ready();
    let mut client = Client::connect(server.port).await.expect("connect");
    let mut medians = Vec::new();
    for (name, query) in SHAPES {
        let mut times = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            let (ms, _) = page(&mut client, &format!("/admin/subscribers?{query}")).await;
            times.push(ms);
        }
        medians.push((name.to_owned(), median(times)));
    }
    // Twenty pages in by following rel="next"; then that page, timed.
    let mut path = "/admin/subscribers".to_owned();
    for _ in 0..20 {
        let (_, body) = page(&mut client, &path).await;
        path = next_link(&body).expect("a next page");
    }
    let mut times = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        times.push(page(&mut client, &path).await.0);
    }
    medians.push(("page_21".to_owned(), median(times)));
    server.stop();
    medians
}

async fn page(client: &mut Client, path: &str) -> (f64, String) {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n");
    let mut body = Vec::new();
    let started = Instant::now();
    let response = client
        .request(request.as_bytes(), false, |bytes| {
            body.extend_from_slice(bytes)
        })
        .await
        .expect("audience page");
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(response.status, 200, "{path}");
    (ms, String::from_utf8(body).expect("UTF-8 page"))
}

fn next_link(page: &str) -> Option<String> {
    let (before, _) = page.split_once("\" rel=\"next\"")?;
    Some(before.rsplit_once("href=\"")?.1.replace("&amp;", "&"))
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
