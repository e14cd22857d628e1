//! Reading a bounce or complaint by its structure, never by its wording.
//!
//! # Policy
//!
//! * MIME is parsed by `mail-parser`; the report parts by our own small
//!   readers: `message/delivery-status` (RFC 3464) and `message/feedback-report`
//!   (RFC 5965).
//! * A feedback report is a complaint.
//! * In a delivery report only recipients with `Action: failed` count
//!   (`delayed`, `delivered`, `relayed`, `expanded` are ignored). Their
//!   `Status` decides: 4.x.x, 5.2.2 (mailbox full) and 5.3.x (the receiving
//!   system) are soft; 5.7.x is `policy` (the sender's problem); any other
//!   5.x.x is hard.
//! * Anything else — an auto-reply (`Auto-Submitted: auto-replied`), an
//!   out-of-office, a plain message — is ignored.
//! * A report is matched by a tag whose MAC holds, found in To, Delivered-To
//!   or X-Original-To, or in the Return-Path or Message-ID of the original
//!   inside a `message/rfc822` or `text/rfc822-headers` part.

use super::tag::{self, Found};
use crate::crypto::Keys;
use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

/// What a report says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BounceClass {
    Hard,
    Soft,
    Complaint,
    Policy,
}

impl BounceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            BounceClass::Hard => "hard",
            BounceClass::Soft => "soft",
            BounceClass::Complaint => "complaint",
            BounceClass::Policy => "policy",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Hard, Self::Soft, Self::Complaint, Self::Policy]
            .into_iter()
            .find(|c| c.as_str() == text)
    }

    /// The class of a failed recipient's enhanced status code (`5.1.1`).
    pub fn of_status(status: &str) -> Option<Self> {
        let mut parts = status.trim().split('.');
        let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some()
            || ![subject, detail]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        Some(match (class, subject, detail) {
            ("4", _, _) => BounceClass::Soft,
            ("5", "2", "2") | ("5", "3", _) => BounceClass::Soft,
            ("5", "7", _) => BounceClass::Policy,
            ("5", _, _) => BounceClass::Hard,
            _ => return None,
        })
    }
}

/// A report read from a raw message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// A bounce or complaint, with its status code (for delivery reports), the
    /// outbox row its tag names (`None` when no tag holds), and the report part
    /// (hashed for the key of an unmatched report).
    Report {
        class: BounceClass,
        status: Option<String>,
        outbox_id: Option<String>,
        report_part: Vec<u8>,
    },
    /// Not a bounce or complaint: an auto-reply, a warning, a plain message.
    Ignored,
}

/// Whether `raw` is a message at all: a `Name: value` header field comes
/// before the first empty line.
pub fn is_message(raw: &[u8]) -> bool {
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return false;
        }
        if line.first().is_some_and(|b| b.is_ascii_whitespace()) {
            continue;
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = &line[..colon];
            if !name.is_empty() && name.iter().all(|&b| b.is_ascii_graphic() && b != b':') {
                return true;
            }
        }
    }
    false
}

/// Reads a raw message; `None` if it is not a message.
pub fn read(keys: &Keys, raw: &[u8]) -> Option<Reading> {
    if !is_message(raw) {
        return None;
    }
    let message = MessageParser::default().parse(raw)?;
    let Some((class, status, report_part)) = classify(&message) else {
        return Some(Reading::Ignored);
    };
    Some(Reading::Report {
        class,
        status,
        outbox_id: match_tag(keys, &message),
        report_part,
    })
}

/// The class, status and report part of a bounce or complaint.
fn classify(message: &Message<'_>) -> Option<(BounceClass, Option<String>, Vec<u8>)> {
    for part in &message.parts {
        let Some(content_type) = part.content_type() else {
            continue;
        };
        let is = |t: &str, s: &str| {
            content_type.ctype().eq_ignore_ascii_case(t)
                && content_type
                    .subtype()
                    .is_some_and(|sub| sub.eq_ignore_ascii_case(s))
        };
        if is("message", "feedback-report") {
            return Some((BounceClass::Complaint, None, part.contents().to_vec()));
        }
        if is("message", "delivery-status") {
            let contents = part.contents();
            let (class, status) = failed_recipient(&String::from_utf8_lossy(contents))?;
            return Some((class, Some(status), contents.to_vec()));
        }
    }
    None
}

/// The first recipient of a delivery-status body with `Action: failed`: its
/// class and status (a failed recipient without a readable status is hard).
fn failed_recipient(body: &str) -> Option<(BounceClass, String)> {
    for block in field_blocks(body).iter().skip(1) {
        let field = |name: &str| {
            block
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
        };
        if !field("Action").is_some_and(|a| a.eq_ignore_ascii_case("failed")) {
            continue;
        }
        // "Status: 5.1.1 (user unknown)": the code is the first word.
        let status = field("Status")
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or("5.0.0")
            .to_owned();
        let class = BounceClass::of_status(&status).unwrap_or(BounceClass::Hard);
        return Some((class, status));
    }
    None
}

/// RFC 3464's groups of `Name: value` fields separated by empty lines, with
/// folded lines unfolded. The first group is per message, the rest per recipient.
fn field_blocks(body: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for line in body.lines() {
        if line.trim().is_empty() {
            if blocks.last().is_some_and(|b| !b.is_empty()) {
                blocks.push(Vec::new());
            }
            continue;
        }
        let Some(current) = blocks.last_mut() else {
            continue;
        };
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            current.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    blocks.retain(|b| !b.is_empty());
    blocks
}

/// The outbox row a valid tag names: in the report's own recipient headers,
/// then in the original message's Return-Path and Message-ID.
fn match_tag(keys: &Keys, message: &Message<'_>) -> Option<String> {
    let mut places: Vec<String> = ["To", "Delivered-To", "X-Original-To"]
        .iter()
        .flat_map(|name| header_texts(message, name))
        .collect();
    for part in &message.parts {
        let original = match &part.body {
            PartType::Message(original) => Some(original.clone()),
            _ if part.content_type().is_some_and(|t| {
                t.ctype().eq_ignore_ascii_case("text")
                    && t.subtype()
                        .is_some_and(|s| s.eq_ignore_ascii_case("rfc822-headers"))
            }) =>
            {
                MessageParser::default()
                    .parse_headers(part.contents())
                    .map(Message::into_owned)
            }
            _ => None,
        };
        if let Some(original) = original {
            for name in ["Return-Path", "Message-ID"] {
                places.extend(header_texts(&original, name));
            }
        }
    }
    places.iter().find_map(|text| match tag::find(keys, text) {
        Found::Outbox(id) => Some(id),
        Found::Forged | Found::Nothing => None,
    })
}

/// Every raw value of header `name` (any case).
fn header_texts(message: &Message<'_>, name: &str) -> Vec<String> {
    message
        .headers_raw()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.to_owned())
        .collect()
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
