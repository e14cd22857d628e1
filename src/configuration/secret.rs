//! The server's HMAC key: configured, or generated once into the data
//! directory outside production.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{ConfigError, Settings};

/// File name of the generated key inside the data directory.
pub(crate) const SECRET_KEY_FILE: &str = "secret_key";
/// Shortest accepted key, in bytes.
pub(crate) const MIN_SECRET_KEY_BYTES: usize = 32;
/// Random bytes in a generated key (written as 64 hex characters).
const GENERATED_KEY_BYTES: usize = 32;
pub(crate) const KEY: &str = "server.secret_key";
pub(crate) const MISSING_IN_PRODUCTION: &str =
    "required in production (at least 32 bytes; set ROLLCALL__SERVER__SECRET_KEY)";

/// Key material for HMAC. `Debug` prints `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Settings {
    /// The HMAC key.
    ///
    /// * `server.secret_key` configured → its bytes (UTF-8, surrounding
    ///   whitespace trimmed).
    /// * otherwise, outside production → the trimmed text of
    ///   `data_dir/secret_key`; when that file does not exist, 32 random
    ///   bytes are generated and written there as 64 hex characters (mode
    ///   0600, `data_dir` created), then read back. The key is the hex *text*,
    ///   so pasting the file's content into `ROLLCALL__SERVER__SECRET_KEY`
    ///   gives the same key.
    /// * in production without a configured key → error.
    pub fn secret_key(&self, data_dir: &Path) -> Result<SecretKey, ConfigError> {
        if let Some(secret) = &self.server.secret_key {
            return key_from_text(secret.expose(), None);
        }
        if self.environment.is_production() {
            return Err(ConfigError::new(KEY, MISSING_IN_PRODUCTION));
        }
        let path = data_dir.join(SECRET_KEY_FILE);
        if let Some(key) = read_key_file(&path)? {
            return Ok(key);
        }
        create_key_file(data_dir, &path)?;
        read_key_file(&path)?.ok_or_else(|| {
            ConfigError::new(KEY, format!("{} vanished after writing it", path.display()))
        })
    }
}

fn key_from_text(text: &str, file: Option<&Path>) -> Result<SecretKey, ConfigError> {
    let text = text.trim();
    if text.len() < MIN_SECRET_KEY_BYTES {
        let message = match file {
            Some(path) => format!(
                "{} holds a key of {} bytes, at least {MIN_SECRET_KEY_BYTES} are needed (delete the file to generate a new one)",
                path.display(),
                text.len()
            ),
            None => format!(
                "must be at least {MIN_SECRET_KEY_BYTES} bytes (got {})",
                text.len()
            ),
        };
        return Err(ConfigError::new(KEY, message));
    }
    Ok(SecretKey(text.as_bytes().to_vec()))
}

fn io_error(action: &str, path: &Path, e: &io::Error) -> ConfigError {
    ConfigError::new(KEY, format!("cannot {action} {}: {e}", path.display()))
}

fn read_key_file(path: &Path) -> Result<Option<SecretKey>, ConfigError> {
    match fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            key_from_text(&text, Some(path)).map(Some)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("read", path, &e)),
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            "secret key file is readable by other users; run chmod 600 on it"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Opens a new file that only the owner can read and write.
fn create_private(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Creates `data/` (and any missing parent) readable by the owner only.
fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes a fresh key to `path` unless one appears there first.
///
/// The key is written to a temporary file and hard-linked into place, so a
/// concurrent reader never sees a half-written key and two processes
/// starting at once end up sharing whichever key was linked first.
fn create_key_file(data_dir: &Path, path: &Path) -> Result<(), ConfigError> {
    create_private_dir(data_dir).map_err(|e| io_error("create", data_dir, &e))?;

    // The key, then a random name for the temporary file.
    let mut random = [0u8; GENERATED_KEY_BYTES + 8];
    getrandom::fill(&mut random)
        .map_err(|e| ConfigError::new(KEY, format!("cannot generate a random key: {e}")))?;
    let (key, suffix) = random.split_at(GENERATED_KEY_BYTES);
    let contents = format!("{}\n", hex(key));
    let tmp: PathBuf = data_dir.join(format!(".{SECRET_KEY_FILE}.{}.tmp", hex(suffix)));

    let write = |target: &Path| -> io::Result<()> {
        let mut file = create_private(target)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()
    };

    if let Err(e) = write(&tmp) {
        let _ = fs::remove_file(&tmp);
        return Err(io_error("write", &tmp, &e));
    }
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a new secret key");
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        // No hard links on this file system: create the file directly.
        Err(_) => match write(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(io_error("write", path, &e)),
        },
    }
}
