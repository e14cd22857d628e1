//! Rules shared by the free-text fields (name, organisation).

use unicode_general_category::{GeneralCategory, get_general_category};

/// Why a free-text field was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Nothing but white space was given.
    #[error("required")]
    Required,
    /// The text has a control (`Cc`) or format (`Cf`) character.
    #[error("must not contain control or formatting characters")]
    ControlOrFormat,
    /// The trimmed text has more than `max` characters.
    #[error("at most {max} characters")]
    TooLong {
        /// The most characters allowed.
        max: usize,
    },
}

/// True if `c` is in Unicode general category `Cc` (control) or `Cf` (format).
pub(crate) fn is_control_or_format(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::Control | GeneralCategory::Format
    )
}

/// Trims `raw` and checks it is non-empty, free of `Cc`/`Cf` characters and at
/// most `max` characters long, in that order. Returns the trimmed text.
pub(crate) fn bounded_text(raw: &str, max: usize) -> Result<&str, TextError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(TextError::Required);
    }
    if text.chars().any(is_control_or_format) {
        return Err(TextError::ControlOrFormat);
    }
    if text.chars().count() > max {
        return Err(TextError::TooLong { max });
    }
    Ok(text)
}

/// Makes user input safe to quote in an error message: control and format
/// characters become U+FFFD and anything past 40 characters becomes `…`.
pub(crate) fn quote_safely(raw: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = raw
        .chars()
        .take(MAX)
        .map(|c| {
            if is_control_or_format(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    if raw.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

/// Proptest strategies shared by the property tests of this module.
#[cfg(test)]
pub(crate) mod strategies {
    use super::is_control_or_format;
    use proptest::prelude::*;

    /// Any string at all, up to `max` characters from the whole `char` range.
    pub(crate) fn any_text(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(any::<char>(), 0..=max).prop_map(String::from_iter)
    }

    /// A character that is neither white space nor `Cc`/`Cf`.
    pub(crate) fn plain_char() -> impl Strategy<Value = char> {
        any::<char>().prop_filter("plain", |c| !c.is_whitespace() && !is_control_or_format(*c))
    }

    /// A control (`Cc`) or format (`Cf`) character.
    pub(crate) fn cc_or_cf() -> impl Strategy<Value = char> {
        let format = [
            '\u{ad}',
            '\u{600}',
            '\u{61c}',
            '\u{6dd}',
            '\u{70f}',
            '\u{180e}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{202a}',
            '\u{202e}',
            '\u{2060}',
            '\u{2064}',
            '\u{2066}',
            '\u{206f}',
            '\u{feff}',
            '\u{fff9}',
            '\u{fffb}',
            '\u{110bd}',
            '\u{1d173}',
            '\u{e0001}',
            '\u{e0020}',
            '\u{e007f}',
        ];
        prop_oneof![
            proptest::char::range('\u{0}', '\u{1f}'),
            proptest::char::range('\u{7f}', '\u{9f}'),
            proptest::sample::select(format.to_vec()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_control_and_format_characters() {
        for c in ['\u{0}', '\u{7}', '\n', '\u{7f}', '\u{85}', '\u{9f}'] {
            assert!(is_control_or_format(c), "{c:?} is Cc");
        }
        for c in ['\u{ad}', '\u{200b}', '\u{200d}', '\u{202e}', '\u{feff}'] {
            assert!(is_control_or_format(c), "{c:?} is Cf");
        }
        for c in ['a', ' ', 'é', '日', '😀', '\u{a0}', '\u{2028}'] {
            assert!(!is_control_or_format(c), "{c:?} is neither");
        }
    }

    #[test]
    fn bounded_text_trims_and_checks_in_order() {
        assert_eq!(bounded_text("  hi \t", 2), Ok("hi"));
        assert_eq!(bounded_text(" \t\n ", 5), Err(TextError::Required));
        assert_eq!(bounded_text("a\u{7}", 1), Err(TextError::ControlOrFormat));
        assert_eq!(bounded_text("abc", 2), Err(TextError::TooLong { max: 2 }));
        // Characters, not bytes: three 4-byte characters fit in 3.
        assert_eq!(bounded_text("😀😀😀", 3), Ok("😀😀😀"));
    }

    #[test]
    fn error_messages_are_human() {
        assert_eq!(TextError::Required.to_string(), "required");
        assert_eq!(
            TextError::TooLong { max: 100 }.to_string(),
            "at most 100 characters"
        );
        assert_eq!(
            TextError::ControlOrFormat.to_string(),
            "must not contain control or formatting characters"
        );
    }

    #[test]
    fn quote_safely_neutralises_and_truncates() {
        assert_eq!(quote_safely("ok"), "ok");
        assert_eq!(quote_safely("a\u{1b}[31mb"), "a\u{fffd}[31mb");
        let long = "x".repeat(41);
        assert_eq!(quote_safely(&long), format!("{}…", "x".repeat(40)));
        assert_eq!(quote_safely(&"y".repeat(40)), "y".repeat(40));
    }

    proptest::proptest! {
        #[test]
        fn cc_or_cf_strategy_only_yields_cc_or_cf(c in strategies::cc_or_cf()) {
            proptest::prop_assert!(is_control_or_format(c));
        }

        #[test]
        fn quote_safely_output_has_no_cc_or_cf(s in strategies::any_text(80)) {
            let quoted = quote_safely(&s);
            proptest::prop_assert!(!quoted.chars().any(is_control_or_format));
            proptest::prop_assert!(quoted.chars().count() <= 41);
        }
    }
}
