//! The plain-text part of every message.
//!
//! # Policy
//!
//! * Every text part goes through [`render_text`], so none has a line wider
//!   than [`WRAP`] columns: the templates keep a paragraph on one line, and
//!   the values from the settings (the group's description, its name,
//!   addresses) can be any length.
//! * A line is broken only at spaces, with the wrapping the announcements'
//!   Markdown uses ([`wrap_into`]): a word longer than a line (a URL) stays
//!   whole on a line of its own.
//! * A line's lead is kept: quote marks (`> `) on every line it becomes, a
//!   list marker (`- `, `1. `) on the first with its width of spaces after.
//! * A line indented by four spaces is preformatted (a command, a Markdown
//!   code block) and stays as it is, as do lines that already fit; so text
//!   wrapped once (an announcement's body) comes out unchanged.
//! * The footer starts after RFC 3676's signature marker, `-- ` with its
//!   space (`templates/email/_footer.txt`), which wrapping leaves alone.

use crate::announcements::markdown::{WRAP, wrap_into};

/// Renders a text template and wraps it: what every text part goes through.
pub fn render_text(template: &impl askama::Template) -> Result<String, askama::Error> {
    Ok(wrap(&template.render()?))
}

/// `text` with each line wider than [`WRAP`] columns wrapped (see the policy).
pub fn wrap(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        if line.chars().count() <= WRAP || is_preformatted(line) {
            out.push_str(line);
        } else {
            let (lead, rest, words) = lead_of(line);
            wrap_into(&mut out, words, &lead, &rest);
            // wrap_into ends with a newline; the split's own separator follows.
            out.pop();
        }
        if lines.peek().is_some() {
            out.push('\n');
        }
    }
    out
}

/// Whether a line is indented by four spaces (after any quote marks).
fn is_preformatted(line: &str) -> bool {
    strip_quotes(line).1.starts_with("    ")
}

/// The line's quote marks (`> > `) and what follows them.
fn strip_quotes(line: &str) -> (&str, &str) {
    let mut rest = line;
    while let Some(after) = rest.strip_prefix("> ") {
        rest = after;
    }
    line.split_at(line.len() - rest.len())
}

/// The lead of a line's first wrapped line (quotes, indent, list marker),
/// the lead of the others (the marker's width as spaces), and the words.
fn lead_of(line: &str) -> (String, String, &str) {
    let (quotes, after_quotes) = strip_quotes(line);
    let words = after_quotes.trim_start_matches(' ');
    let indent = &after_quotes[..after_quotes.len() - words.len()];
    let marker_len = list_marker_len(words);
    let (marker, words) = words.split_at(marker_len);
    let lead = format!("{quotes}{indent}{marker}");
    let rest = format!("{quotes}{indent}{}", " ".repeat(marker.chars().count()));
    (lead, rest, words)
}

/// The length of a list marker (`- `, `12. `) at the start of `text`, or 0.
fn list_marker_len(text: &str) -> usize {
    if text.starts_with("- ") {
        return 2;
    }
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && text[digits..].starts_with(". ") {
        digits + 2
    } else {
        0
    }
}

#[cfg(test)]
#[path = "plain_text_tests.rs"]
mod tests;
