//! `announce create`: the body from a file, every field checked, a draft stored.

use super::{Context, CreateArgs, INVALID, invalid};
use crate::db::{self, announcements, audience};
use crate::domain::announcement::{AnnouncementDraft, BODY_MAX_BYTES, RawAudience};
use std::io::Read;
use std::path::Path;

pub(super) async fn create(ctx: &Context, args: CreateArgs) -> anyhow::Result<i32> {
    let body = match read_body(&args.body) {
        Ok(body) => body,
        Err(message) => return Ok(invalid(message)),
    };
    let raw = RawAudience {
        countries: args.countries,
        org_types: args.org_types,
        interests: args.interests,
        timezones: args.timezones,
    };
    let interests = &ctx.settings.signup.interests;
    let draft = match AnnouncementDraft::parse(&args.subject, &body, &raw, args.archive, interests)
    {
        Ok(draft) => draft,
        Err(errors) => {
            for (field, messages) in errors.iter() {
                for message in messages {
                    eprintln!("--{}: {message}", field.replace('_', "-"));
                }
            }
            return Ok(INVALID);
        }
    };
    let (actor, now) = (ctx.actor(), ctx.now());
    let (id, matching) = db::blocking(&ctx.pool, move |c| {
        let id = announcements::create(c, &draft, &actor, now)?;
        Ok((id, audience::count(c, &draft.audience)?))
    })
    .await?;
    println!("{id}");
    eprintln!("draft created; {matching} member(s) match its audience now");
    Ok(0)
}

/// The body from `path` (`-` is stdin): text, or why not, naming the option.
/// Reads at most twice the limit: normalising CRLF can at most halve the size,
/// so anything longer is too long however it ends.
fn read_body(path: &Path) -> Result<String, String> {
    let limit = u64::try_from(2 * BODY_MAX_BYTES + 1).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|file| file.take(limit).read_to_end(&mut bytes))
    };
    let shown = path.display();
    if let Err(error) = read {
        return Err(format!("--body {shown}: {error}"));
    }
    if bytes.len() > 2 * BODY_MAX_BYTES {
        return Err(format!("--body {shown}: at most 64 KiB"));
    }
    String::from_utf8(bytes).map_err(|_| format!("--body {shown}: not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::announcement::AnnouncementBody;
    use std::io::Write;

    fn file_of(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    #[test]
    fn a_body_over_64_kib_in_crlf_that_normalises_under_it_is_read_whole() {
        let text = "a\r\n\r\n".repeat(20_000);
        assert!(text.len() > BODY_MAX_BYTES);
        let body = read_body(file_of(text.as_bytes()).path()).unwrap();
        assert_eq!(body, text);
        assert!(
            AnnouncementBody::parse(&body).is_ok(),
            "60,000 bytes once normalised"
        );
    }

    #[test]
    fn a_body_past_twice_the_limit_is_refused_without_reading_it_all() {
        let file = file_of(&vec![b'\n'; 2 * BODY_MAX_BYTES + 1]);
        let error = read_body(file.path()).unwrap_err();
        assert!(error.ends_with(": at most 64 KiB"), "{error}");
    }

    #[test]
    fn a_missing_or_non_utf8_body_names_the_option_and_the_file() {
        let missing = read_body(Path::new("/nonexistent/body.md")).unwrap_err();
        assert!(
            missing.starts_with("--body /nonexistent/body.md: "),
            "{missing}"
        );
        let latin1 = file_of(b"Caf\xe9");
        let error = read_body(latin1.path()).unwrap_err();
        assert!(error.ends_with(": not UTF-8 text"), "{error}");
    }
}
