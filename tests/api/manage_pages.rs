//! The manage page says whose registration it manages and what is kept, and
//! erasing asks once more before anything goes.

use crate::helpers::{Backend, link_in, spawn_app};
use crate::on_both_backends;

on_both_backends!(the_manage_page_shows_the_address_and_erase_asks_once_more);

async fn the_manage_page_shows_the_address_and_erase_asks_once_more(backend: Backend) {
    let app = spawn_app(backend).await;
    app.confirmed_member("sione@example.org").await;
    app.clock.advance(chrono::Duration::days(1));
    app.post_email_form("/subscriptions/manage", "sione@example.org")
        .await;
    app.deliver().await;
    let mail = app.mail_to("sione@example.org").pop().unwrap();
    let link = link_in(&mail.text_body().unwrap(), "/manage?token=");
    let page = app
        .client
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("sione@example.org"),
        "the page names the address"
    );
    assert!(page.contains(">Unsubscribe</button>"));
    let erase = link.replace("/manage?", "/manage/erase?");
    assert!(
        page.contains(&format!(
            "href=\"{}\"",
            erase.trim_start_matches(&app.url(""))
        )),
        "Erase is a link to the question"
    );
    assert!(
        !page.contains("action=\"/manage/erase"),
        "no one-tap erase on the manage page"
    );

    let question = app.client.get(&erase).send().await.unwrap();
    assert_eq!(question.status(), 200);
    assert_eq!(question.headers()["cache-control"], "no-store");
    let question = question.text().await.unwrap();
    assert!(question.contains("Erase my data?") && question.contains("sione@example.org"));
    assert!(question.contains("action=\"/manage/erase?token="));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations"),
        1,
        "asking erases nothing"
    );

    // Unsubscribed, the page offers no Unsubscribe button.
    let unsubscribe = link.replace("/manage?", "/manage/unsubscribe?");
    assert_eq!(
        app.client.post(&unsubscribe).send().await.unwrap().status(),
        200
    );
    let page = app
        .client
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(">Unsubscribe</button>") && page.contains("You are unsubscribed"));
    assert_eq!(app.client.post(&erase).send().await.unwrap().status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 0);
}

on_both_backends!(an_erase_question_for_an_unknown_link_or_person_is_a_404);

async fn an_erase_question_for_an_unknown_link_or_person_is_a_404(backend: Backend) {
    let app = spawn_app(backend).await;
    app.confirmed_member("ana@example.org").await;
    let unknown = app
        .client
        .get(app.url("/manage/erase?token=not-a-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    app.add_organiser("organiser@example.org", "correct horse battery staple");
    app.log_in("organiser@example.org", "correct horse battery staple")
        .await;
    let nobody = app
        .client
        .get(app.url("/admin/subscribers/no-such-id/erase"))
        .send()
        .await
        .unwrap();
    assert_eq!(nobody.status(), 404);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations"),
        1,
        "nothing changed"
    );
}
