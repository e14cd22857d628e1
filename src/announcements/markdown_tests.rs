use super::*;
use proptest::prelude::*;

#[test]
fn raw_html_is_shown_as_text() {
    let html =
        to_html("Hello <script>alert(1)</script> <b>bold</b>\n\n<div onclick=x>block</div>\n");
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    assert!(!html.contains("<div"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
}

#[test]
fn only_web_and_mail_links_keep_their_destination() {
    let html = to_html(
        "[site](https://pangeo.io) [mail](mailto:hi@example.org) [bad](javascript:alert(1)) \
         [data](data:text/html,x) [rel](/admin) [upper](JAVASCRIPT:x)",
    );
    assert!(
        html.contains(r#"<a href="https://pangeo.io">site</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="mailto:hi@example.org">mail</a>"#),
        "{html}"
    );
    for gone in ["javascript", "JAVASCRIPT", "data:", "/admin"] {
        assert!(!html.contains(gone), "{gone} in {html}");
    }
    for text in ["bad", "data", "rel", "upper"] {
        assert!(html.contains(text), "{text} kept as text in {html}");
    }
}

#[test]
fn images_become_links_and_never_load() {
    let html = to_html("![the venue](https://example.org/venue.png) ![x](javascript:alert(1))");
    assert!(!html.contains("<img"), "{html}");
    assert!(
        html.contains(r#"<a href="https://example.org/venue.png">the venue</a>"#),
        "{html}"
    );
    assert!(!html.contains("javascript"), "{html}");
    let linked = to_html("[![logo](https://example.org/a.png)](https://pangeo.io)");
    assert!(
        !linked.contains("<img") && linked.matches("<a ").count() == 1,
        "{linked}"
    );
}

#[test]
fn plain_text_reads_well() {
    let text = to_text(
        "# First meetup\n\nWe meet on *Thursday* at the [Bureau](https://bom.gov.au).\n\n\
         - talks\n- pizza\n\n1. register\n2. come\n\nMail <mailto:hi@example.org> or see <https://pangeo.io>.\n\n\
         > quoted\n\n    code line\n",
    );
    assert_eq!(
        text,
        "First meetup\n\nWe meet on Thursday at the Bureau <https://bom.gov.au>.\n\n\
         - talks\n- pizza\n\n1. register\n2. come\n\nMail <hi@example.org> or see <https://pangeo.io>.\n\n\
         > quoted\n\n    code line\n"
    );
}

#[test]
fn plain_text_wraps_long_paragraphs_at_72_columns() {
    let words = "word ".repeat(40);
    let text = to_text(&words);
    assert!(text.lines().count() > 2);
    assert!(
        text.lines().all(|line| line.chars().count() <= 72),
        "{text}"
    );
    let url = format!("https://example.org/{}", "a".repeat(100));
    assert!(
        to_text(&format!("see <{url}>")).contains(&url),
        "a long URL stays whole"
    );
}

#[test]
fn nested_lists_are_indented() {
    let text = to_text("- one\n  - inner\n- two\n");
    assert_eq!(text, "- one\n  - inner\n- two\n");
}

proptest! {
    /// Whatever is typed, the HTML has no tag but the ones Markdown makes,
    /// and no link to anything but http, https and mailto.
    #[test]
    fn html_never_carries_raw_tags_or_script_links(body in "[a-z <>/\\[\\]()!:*#=\"'\\n-]{0,200}") {
        let html = to_html(&body);
        for tag in ["<script", "<img", "<iframe", "<style", "<div", "<span", "<b>", "<a href=\"javascript"] {
            prop_assert!(!html.contains(tag), "{tag} in {html}");
        }
        for (i, _) in html.match_indices("href=\"") {
            let rest = &html[i + 6..];
            prop_assert!(allowed_destination(rest), "link {rest} in {html}");
        }
    }
}
