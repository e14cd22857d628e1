//! The one script the pages use (`static/timezone.js`), built once. Its URL
//! carries a hash of its text, so it can be cached for a year: a changed
//! script is a new URL.

use crate::domain::TimeZoneName;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Where the script is served (the query is only for caches).
pub const TIMEZONE_SCRIPT_PATH: &str = "/static/timezone.js";
const SOURCE: &str = include_str!("../../static/timezone.js");
const LINKS_SLOT: &str = "{/* links */}";

static SCRIPT: LazyLock<String> = LazyLock::new(|| SOURCE.replacen(LINKS_SLOT, &links_json(), 1));

static URL: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(SCRIPT.as_bytes());
    let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("{TIMEZONE_SCRIPT_PATH}?v={hash}")
});

/// The script's text: the time-zone preselection, with the aliases it needs.
pub fn timezone_script() -> &'static str {
    SCRIPT.as_str()
}

/// The script's URL as pages link it.
pub fn timezone_script_url() -> &'static str {
    URL.as_str()
}

/// Every alias of a zone the menu lists, and that zone: `{"Asia/Calcutta":"Asia/Kolkata",…}`.
fn links_json() -> String {
    let links: BTreeMap<&str, &str> = TimeZoneName::all()
        .filter(|zone| zone.is_place())
        .flat_map(|zone| {
            zone.names()
                .skip(1)
                .map(move |alias| (alias, zone.as_str()))
        })
        .collect();
    // A map of strings always serialises.
    serde_json::to_string(&links).unwrap_or_else(|_| "{}".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_knows_the_aliases_browsers_report() {
        let script = timezone_script();
        assert!(!script.contains(LINKS_SLOT));
        for pair in [
            r#""Asia/Calcutta":"Asia/Kolkata""#,
            r#""Europe/Kiev":"Europe/Kyiv""#,
            r#""Pacific/Majuro":"Pacific/Tarawa""#,
            r#""Pacific/Samoa":"Pacific/Pago_Pago""#,
        ] {
            assert!(script.contains(pair), "{pair}");
        }
        assert!(!script.contains("Etc/"), "no zone the menu leaves out");
    }

    #[test]
    fn the_url_changes_with_the_script() {
        let url = timezone_script_url();
        let hash = url.strip_prefix("/static/timezone.js?v=").unwrap();
        assert_eq!(hash.len(), 12);
        let digest = Sha256::digest(timezone_script().as_bytes());
        assert!(hash.starts_with(&format!("{:02x}", digest[0])));
    }
}
