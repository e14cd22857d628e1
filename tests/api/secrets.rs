//! Tokens, codes and addresses stay where they belong: the database keeps no
//! emailed token or code in any column, and the server's log (at debug level)
//! holds no token and no full address.

use crate::helpers::{
    Backend, TEST_SECRET, TestApp, TestDatabase, client, code_in, extract_csrf, link_in,
    mentions_code, spawn_app, token_of, valid_form, wait_until,
};
use crate::on_both_backends;
use crate::processes::{RollcallProcess, free_port};
use crate::smtp_server::ReceivedMail;
use diesel::RunQueryDsl;
use rollcall::db::DbConnection;
use std::path::Path;
use std::time::Duration;

on_both_backends!(
    no_column_of_any_table_holds_an_emailed_token_or_code,
    a_whole_flow_logs_no_token_and_no_full_address,
);

/// The secrets a person received by email in one full flow.
struct Emailed {
    tokens: Vec<String>,
    code: String,
}

/// Signup → confirmation (by link) → welcome → one-click unsubscribe.
async fn full_flow(app: &TestApp, address: &str) -> Emailed {
    assert_eq!(app.sign_up(address).await.status(), 303);
    assert_eq!(app.deliver().await, 1);
    let confirmation = app.mail_to(address).pop().unwrap();
    let code = code_in(&confirmation.text_body().unwrap());
    let confirm = token_of(&app.confirmation_link(address));
    let posted = app
        .post_form("/subscriptions/confirm", &[("token", &confirm)])
        .await;
    assert_eq!(posted.status(), 303);
    assert_eq!(app.deliver().await, 1);
    let unsubscribe_link = app.unsubscribe_link(address);
    let unsubscribe = token_of(&unsubscribe_link);
    let done = reqwest::Client::new()
        .post(&unsubscribe_link)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'unsubscribed'"),
        1
    );
    Emailed {
        tokens: vec![confirm, unsubscribe],
        code,
    }
}

async fn no_column_of_any_table_holds_an_emailed_token_or_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let emailed = full_flow(&app, "at-rest@example.org").await;
    let mut conn = app.db();
    let columns = text_columns(&mut conn);
    for expected in [("tokens", "token_hash"), ("outbox", "token_id")] {
        assert!(
            columns
                .iter()
                .any(|(t, c)| (t.as_str(), c.as_str()) == expected),
            "the schema listing finds {expected:?}: {columns:?}"
        );
    }
    let mut values_seen = 0;
    for (table, column) in &columns {
        for value in column_values(&mut conn, table, column) {
            values_seen += 1;
            for token in &emailed.tokens {
                assert!(
                    !value.contains(token.as_str()),
                    "{table}.{column} holds an emailed token"
                );
            }
            assert!(
                !mentions_code(&value, &emailed.code),
                "{table}.{column} holds the emailed code: {value:?}"
            );
        }
    }
    assert!(values_seen > 50, "the scan read real data: {values_seen}");
}

/// Every (table, column) of text type, read from the schema itself.
fn text_columns(conn: &mut DbConnection) -> Vec<(String, String)> {
    #[derive(diesel::QueryableByName)]
    struct Column {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        column_name: String,
    }
    // SQLite: a declared type with CHAR, CLOB or TEXT has text affinity.
    let sqlite = "SELECT m.name AS table_name, p.name AS column_name \
                  FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                  WHERE m.type = 'table' AND (upper(p.type) LIKE '%CHAR%' \
                  OR upper(p.type) LIKE '%CLOB%' OR upper(p.type) LIKE '%TEXT%')";
    let postgres = "SELECT CAST(table_name AS TEXT) AS table_name, \
                    CAST(column_name AS TEXT) AS column_name \
                    FROM information_schema.columns \
                    WHERE table_schema = 'public' \
                    AND data_type IN ('text', 'character varying')";
    let rows: Vec<Column> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sqlite).load(c),
        DbConnection::Postgres(c) => diesel::sql_query(postgres).load(c),
    }
    .expect("list text columns");
    rows.into_iter()
        .map(|r| (r.table_name, r.column_name))
        .collect()
}

fn column_values(conn: &mut DbConnection, table: &str, column: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Value {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        v: Option<String>,
    }
    let sql = format!(r#"SELECT CAST("{column}" AS TEXT) AS v FROM "{table}""#);
    let rows: Vec<Value> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c),
        DbConnection::Postgres(c) => diesel::sql_query(sql).load(c),
    }
    .expect("read a column");
    rows.into_iter().filter_map(|r| r.v).collect()
}

/// The real binary (`rollcall serve`, file transport, debug log) in a temporary
/// directory holding a copy of `config/`, so `data/mail/` lands there: the
/// global tracing subscriber is per process, so a child is the clean way to
/// capture everything one server logs.
async fn a_whole_flow_logs_no_token_and_no_full_address(backend: Backend) {
    const ADDRESS: &str = "kiri.logs@example.org";
    let database = TestDatabase::create(backend);
    let workdir = tempfile::tempdir().unwrap();
    copy_config(workdir.path());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = RollcallProcess::spawn(
        "serve",
        workdir.path(),
        &[
            ("ROLLCALL__SERVER__PORT", port.to_string()),
            ("ROLLCALL__SERVER__BASE_URL", base.clone()),
            ("ROLLCALL__SERVER__SECRET_KEY", TEST_SECRET.to_owned()),
            ("ROLLCALL__DATABASE__URL", database.raw_url.clone()),
            ("ROLLCALL__EMAIL__TRANSPORT", "file".to_owned()),
            ("ROLLCALL__EMAIL__POLL_INTERVAL_MS", "50".to_owned()),
            ("ROLLCALL__LOG__LEVEL", "debug".to_owned()),
        ],
    );
    let http = client();
    let health = format!("{base}/health");
    wait_until(
        "the server answers /health",
        Duration::from_secs(60),
        || {
            server.assert_running();
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        },
    )
    .await;
    assert_eq!(http.get(&health).send().await.unwrap().status(), 200);

    let form = http.get(&base).send().await.unwrap().text().await.unwrap();
    let csrf = extract_csrf(&form).unwrap();
    let mut pairs = valid_form(ADDRESS);
    pairs.push(("csrf_token", &csrf));
    let signup = http
        .post(format!("{base}/subscriptions"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::helpers::encode_form(&pairs))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 303);

    let mail_dir = workdir.path().join("data").join("mail");
    let confirmation = wait_for_mail(&mail_dir, 1).await.pop().unwrap();
    let text = confirmation.text_body().unwrap();
    let code = code_in(&text);
    let confirm_link = link_in(&text, "/subscriptions/confirm?token=");
    assert!(confirm_link.starts_with(&base));
    let confirm = token_of(&confirm_link);
    assert_eq!(http.get(&confirm_link).send().await.unwrap().status(), 200);
    let by_code = http
        .post(format!("{base}/subscriptions/confirm"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("code={code}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_code.status(), 303, "confirmed with the code");

    let welcome = wait_for_mail(&mail_dir, 2)
        .await
        .into_iter()
        .find(|m| m.subject().unwrap_or_default().starts_with("Welcome"))
        .expect("a welcome message");
    let unsubscribe_link = link_in(&welcome.text_body().unwrap(), "/unsubscribe?token=");
    let unsubscribe = token_of(&unsubscribe_link);
    assert_eq!(
        http.get(&unsubscribe_link).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        http.post(&unsubscribe_link).send().await.unwrap().status(),
        200
    );
    server.terminate();

    let log = server.output();
    assert!(
        log.contains("request finished"),
        "the log was captured:\n{log}"
    );
    for token in [&confirm, &unsubscribe] {
        assert!(!log.contains(token.as_str()), "a token is logged:\n{log}");
    }
    assert!(!mentions_code(&log, &code), "the code is logged:\n{log}");
    assert!(
        !log.to_lowercase().contains(ADDRESS),
        "the full address is logged:\n{log}"
    );
}

fn copy_config(workdir: &Path) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let target = workdir.join("config");
    std::fs::create_dir_all(&target).unwrap();
    for entry in std::fs::read_dir(source).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), target.join(entry.file_name())).unwrap();
    }
}

/// Waits (bounded) until `count` finished `.eml` files exist, and parses them.
async fn wait_for_mail(dir: &Path, count: usize) -> Vec<ReceivedMail> {
    let eml_files = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default()
    };
    wait_until(
        &format!("{count} mail file(s) in {}", dir.display()),
        Duration::from_secs(30),
        || eml_files().len() >= count,
    )
    .await;
    eml_files()
        .into_iter()
        .map(|path| ReceivedMail {
            mail_from: String::new(),
            rcpt_to: Vec::new(),
            data: std::fs::read_to_string(path).unwrap(),
        })
        .collect()
}
