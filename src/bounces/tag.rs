//! The signed tag of the VERP return path: `bounces+{tag}@example.org`.
//!
//! The tag is the outbox row's UUID (16 bytes) and the first 5 bytes of an
//! HMAC of it, in RFC 4648 base32, lower-cased and unpadded: 26 + 8 = 34
//! characters of `a–z2–7`. Lower case survives servers that lower-case
//! addresses; the MAC makes a forged or mangled tag fail its check.

use crate::crypto::Keys;
use data_encoding::BASE32_NOPAD;

/// Characters in a tag.
pub const TAG_LEN: usize = 34;
const MAC_BYTES: usize = 5;

/// The tag of an outbox row; `None` if the id is not a UUID.
pub fn tag_for(keys: &Keys, outbox_id: &str) -> Option<String> {
    let id = uuid::Uuid::parse_str(outbox_id).ok()?;
    let mac = keys.bounce_tag_mac(id.as_bytes());
    // 16 bytes encode to 26 characters, 5 bytes to exactly 8.
    let id_part = BASE32_NOPAD.encode(id.as_bytes()).to_ascii_lowercase();
    let mac_part = BASE32_NOPAD.encode(&mac[..MAC_BYTES]).to_ascii_lowercase();
    Some(format!("{id_part}{mac_part}"))
}

/// The envelope sender of a message with this tag: `local+tag@domain`.
pub fn return_path(bounce_address: &str, tag: &str) -> Option<String> {
    let (local, domain) = bounce_address.rsplit_once('@')?;
    Some(format!("{local}+{tag}@{domain}"))
}

/// The Message-ID carrying the tag: `<tag@domain>`.
pub fn message_id(bounce_address: &str, tag: &str) -> Option<String> {
    let (_, domain) = bounce_address.rsplit_once('@')?;
    Some(format!("<{tag}@{domain}>"))
}

/// What looking for a tag in some text found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A tag whose MAC holds: the outbox row it names.
    Outbox(String),
    /// Something shaped like a tag whose MAC fails.
    Forged,
    Nothing,
}

/// The outbox id a tag names, if its MAC holds (case is ignored).
pub fn verify(keys: &Keys, candidate: &str) -> Option<String> {
    if candidate.len() != TAG_LEN {
        return None;
    }
    let upper = candidate.to_ascii_uppercase();
    let id_bytes = BASE32_NOPAD.decode(&upper.as_bytes()[..26]).ok()?;
    let id = uuid::Uuid::from_slice(&id_bytes).ok()?;
    let expected = tag_for(keys, &id.to_string())?;
    let same = subtle::ConstantTimeEq::ct_eq(
        expected.as_bytes(),
        candidate.to_ascii_lowercase().as_bytes(),
    );
    bool::from(same).then(|| id.to_string())
}

/// Looks for tags in `text` (an address, a Message-ID, a header): runs of
/// exactly 34 base32 characters between other characters.
pub fn find(keys: &Keys, text: &str) -> Found {
    let mut found = Found::Nothing;
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.len() != TAG_LEN || !word.bytes().all(is_base32) {
            continue;
        }
        match verify(keys, word) {
            Some(id) => return Found::Outbox(id),
            None => found = Found::Forged,
        }
    }
    found
}

fn is_base32(b: u8) -> bool {
    b.is_ascii_alphabetic() || (b'2'..=b'7').contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::new(b"a test secret that is long enough for tags")
    }

    const ID: &str = "0192f0a1-7c3e-7b10-8a55-0123456789ab";

    #[test]
    fn a_tag_is_34_lower_case_base32_characters_and_verifies() {
        let tag = tag_for(&keys(), ID).unwrap();
        assert_eq!(tag.len(), TAG_LEN);
        assert!(
            tag.bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)),
            "{tag}"
        );
        assert_eq!(verify(&keys(), &tag).as_deref(), Some(ID));
        assert_eq!(
            verify(&keys(), &tag.to_ascii_uppercase()).as_deref(),
            Some(ID),
            "servers may change case"
        );
        assert_eq!(tag_for(&keys(), ID), Some(tag), "the same across retries");
    }

    #[test]
    fn a_forged_or_foreign_tag_fails() {
        let tag = tag_for(&keys(), ID).unwrap();
        let mut forged = tag.clone().into_bytes();
        forged[30] = if forged[30] == b'a' { b'b' } else { b'a' };
        let forged = String::from_utf8(forged).unwrap();
        assert_eq!(verify(&keys(), &forged), None);
        assert_eq!(
            verify(&Keys::new(b"another secret, also long enough......"), &tag),
            None
        );
        assert_eq!(
            find(&keys(), &format!("bounces+{forged}@example.org")),
            Found::Forged
        );
        assert_eq!(find(&keys(), "no tag here, just words"), Found::Nothing);
    }

    #[test]
    fn tags_are_found_in_addresses_and_message_ids() {
        let tag = tag_for(&keys(), ID).unwrap();
        let address = return_path("bounces@example.org", &tag).unwrap();
        assert_eq!(address, format!("bounces+{tag}@example.org"));
        assert_eq!(
            find(&keys(), &format!("To: <{}>", address.to_ascii_uppercase())),
            Found::Outbox(ID.to_owned())
        );
        let message_id = message_id("bounces@example.org", &tag).unwrap();
        assert_eq!(message_id, format!("<{tag}@example.org>"));
        assert_eq!(find(&keys(), &message_id), Found::Outbox(ID.to_owned()));
    }
}
