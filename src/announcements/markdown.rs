//! An announcement's Markdown body as HTML and as plain text.
//!
//! # Policy
//!
//! * CommonMark (pulldown-cmark, no extensions).
//! * Raw HTML, block or inline, is shown as text: it is never passed through.
//! * A link keeps its destination only when it is `http`, `https` or `mailto`;
//!   any other (`javascript:`, `data:`, relative) leaves its text alone.
//! * An image becomes a link to it with its description as the text, so no
//!   remote image loads anywhere (a mail client's tracking pixel included).
//! * The plain-text part reads on its own: paragraphs wrapped at 72
//!   characters ([`wrap_into`], which every text part shares), lists with
//!   `-` or `1.`, links as `text <url>`.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// Whether a link destination may be kept.
pub fn allowed_destination(url: &str) -> bool {
    let url = url.trim();
    let scheme = match url.split_once(':') {
        Some((scheme, _)) => scheme.to_ascii_lowercase(),
        None => return false,
    };
    matches!(scheme.as_str(), "http" | "https" | "mailto")
}

/// The body's events with the policy applied: raw HTML as text, links kept
/// only to allowed destinations, images as links.
fn safe_events(markdown: &str) -> Vec<Event<'_>> {
    let mut out = Vec::new();
    // For each open link or image: whether its start was kept (so its end is).
    let mut open: Vec<bool> = Vec::new();
    for event in Parser::new_ext(markdown, Options::empty()) {
        match event {
            Event::Html(html) | Event::InlineHtml(html) => out.push(Event::Text(html)),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let keep = allowed_destination(&dest_url) && !open.iter().any(|&kept| kept);
                open.push(keep);
                if keep {
                    out.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }));
                }
            }
            Event::Start(Tag::Image {
                dest_url,
                title,
                id,
                ..
            }) => {
                let keep = allowed_destination(&dest_url) && !open.iter().any(|&kept| kept);
                open.push(keep);
                if keep {
                    out.push(Event::Start(Tag::Link {
                        link_type: LinkType::Inline,
                        dest_url,
                        title,
                        id,
                    }));
                }
            }
            Event::End(TagEnd::Link | TagEnd::Image) => {
                if open.pop().unwrap_or(false) {
                    out.push(Event::End(TagEnd::Link));
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The body as an HTML fragment.
pub fn to_html(markdown: &str) -> String {
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, safe_events(markdown).into_iter());
    html
}

/// The column plain-text paragraphs wrap at: every text part of every
/// message keeps to it (see `email::plain_text`).
pub const WRAP: usize = 72;

/// The body as readable plain text, ending with one newline.
pub fn to_text(markdown: &str) -> String {
    let mut text = PlainText::default();
    for event in safe_events(markdown) {
        text.event(event);
    }
    text.finish()
}

/// Builds the plain text block by block: inline text gathers in `line` and is
/// wrapped when its block ends.
#[derive(Default)]
struct PlainText {
    out: String,
    line: String,
    /// The prefix of each line of the current block (quote marks, list indent).
    prefixes: Vec<String>,
    /// For each open list: the next number, or `None` for bullets.
    lists: Vec<Option<u64>>,
    /// The destination of each open link, to follow its text.
    links: Vec<String>,
    link_text_start: Vec<usize>,
    in_code_block: bool,
    /// The marker of a list item's first line (`- `, `1. `), once.
    pending_marker: Option<String>,
}

impl PlainText {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) if self.in_code_block => self.code_lines(&text),
            Event::Text(text) | Event::Code(text) => self.line.push_str(&text),
            Event::SoftBreak => self.line.push(' '),
            Event::HardBreak => self.line.push('\n'),
            Event::Rule => {
                self.block_gap();
                self.out.push_str("----\n");
            }
            Event::Html(text) | Event::InlineHtml(text) => self.line.push_str(&text),
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph | Tag::Heading { .. } => self.block_gap(),
            Tag::BlockQuote(_) => {
                self.block_gap();
                self.prefixes.push("> ".to_owned());
            }
            Tag::CodeBlock(_) => {
                self.block_gap();
                self.in_code_block = true;
            }
            Tag::List(first) => {
                if self.lists.is_empty() {
                    self.block_gap();
                } else {
                    self.flush();
                }
                self.lists.push(first);
            }
            Tag::Item => {
                self.flush();
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let marker = format!("{n}. ");
                        *n += 1;
                        marker
                    }
                    _ => "- ".to_owned(),
                };
                self.prefixes.push(" ".repeat(marker.len()));
                self.pending_marker = Some(marker);
            }
            Tag::Link { dest_url, .. } => {
                self.links.push(dest_url.to_string());
                self.link_text_start.push(self.line.len());
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::Heading(_) => self.flush(),
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.prefixes.pop();
            }
            TagEnd::CodeBlock => self.in_code_block = false,
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
            }
            TagEnd::Item => {
                self.flush();
                self.prefixes.pop();
            }
            TagEnd::Link => {
                let url = self.links.pop().unwrap_or_default();
                let start = self.link_text_start.pop().unwrap_or(0);
                let shown = self.line.get(start..).unwrap_or_default().trim().to_owned();
                let bare = url.strip_prefix("mailto:").unwrap_or(&url).to_owned();
                if shown.is_empty() || shown == url || shown == bare {
                    let url = bare;
                    self.line.truncate(start);
                    self.line.push('<');
                    self.line.push_str(&url);
                    self.line.push('>');
                } else {
                    let url = bare;
                    self.line.push_str(" <");
                    self.line.push_str(&url);
                    self.line.push('>');
                }
            }
            _ => {}
        }
    }

    /// An empty line between blocks (none at the start, none inside a list).
    fn block_gap(&mut self) {
        self.flush();
        if !self.out.is_empty() && !self.out.ends_with("\n\n") && self.lists.is_empty() {
            self.out.push('\n');
        }
    }

    fn code_lines(&mut self, text: &CowStr<'_>) {
        let prefix: String = self.prefixes.concat();
        for line in text.lines() {
            self.out.push_str(&prefix);
            self.out.push_str("    ");
            self.out.push_str(line);
            self.out.push('\n');
        }
    }

    /// Writes the gathered inline text, wrapped, with the block's prefixes.
    fn flush(&mut self) {
        let line = std::mem::take(&mut self.line);
        if line.trim().is_empty() {
            return;
        }
        let rest: String = self.prefixes.concat();
        let mut first: String = rest.clone();
        if let Some(marker) = self.pending_marker.take() {
            // The item's own indent is the last prefix: its marker replaces it.
            let indent = self.prefixes.last().map_or(0, String::len);
            first.truncate(first.len().saturating_sub(indent));
            first.push_str(&marker);
        }
        for (i, hard_line) in line.split('\n').enumerate() {
            let lead = if i == 0 { &first } else { &rest };
            wrap_into(&mut self.out, hard_line.trim(), lead, &rest);
        }
    }

    fn finish(mut self) -> String {
        self.flush();
        let trimmed = self.out.trim_end().to_owned();
        trimmed + "\n"
    }
}

/// Appends `text` wrapped at [`WRAP`] columns, the first line after `lead`,
/// the others after `rest`. A word longer than a line (a URL) stays whole.
/// The one wrapping rule of plain text: `email::plain_text` uses it too.
pub fn wrap_into(out: &mut String, text: &str, lead: &str, rest: &str) {
    let mut column = 0;
    out.push_str(lead);
    column += lead.chars().count();
    let mut at_start = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let width = word.chars().count();
        if !at_start && column + 1 + width > WRAP {
            out.push('\n');
            out.push_str(rest);
            column = rest.chars().count();
            at_start = true;
        }
        if !at_start {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += width;
        at_start = false;
    }
    out.push('\n');
}

#[cfg(test)]
#[path = "markdown_tests.rs"]
mod tests;
