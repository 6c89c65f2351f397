//! The password file (`~/.pgpass`, `PGPASSFILE` or `passfile=`), read with libpq's rules.
//!
//! Each line is `hostname:port:database:username:password`. A field that is exactly `*` matches
//! anything; `\:` and `\\` stand for `:` and `\`; lines starting with `#` are comments; the
//! first matching line wins. A connection over the default socket directory matches the host
//! name `localhost`. On Unix the file is ignored, with a warning, unless only its owner can
//! access it (mode 0600 or less), and when it is not a plain file.

use std::path::{Path, PathBuf};

use super::{Host, Resolved};

/// Socket directories that count as "the local server" and so match `localhost`. libpq has one
/// compiled-in directory; tusk knows several because it was not built with one (see the
/// module notes of `config`).
const DEFAULT_SOCKET_DIRS: [&str; 3] = ["/var/run/postgresql", "/run/postgresql", "/tmp"];

impl Resolved {
    /// The password to use for one target: the explicit password, else the first matching entry
    /// of the password file (`passfile`, else `$HOME/.pgpass`).
    pub(crate) fn password_for(&self, host: &Host, port: u16) -> Option<Vec<u8>> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        self.password_for_with(host, port, home.as_deref())
    }

    /// The core of [`Resolved::password_for`], with the home directory passed in.
    pub(crate) fn password_for_with(
        &self,
        host: &Host,
        port: u16,
        home: Option<&Path>,
    ) -> Option<Vec<u8>> {
        if let Some(password) = self.password.as_ref().filter(|p| !p.is_empty()) {
            return Some(password.clone());
        }
        let path = match &self.passfile {
            Some(path) => path.clone(),
            None => home?.join(".pgpass"),
        };
        lookup(&path, host, port, &self.dbname, &self.user)
    }
}

/// Reads the password file at `path` and returns the password of the first entry matching the
/// target, if any. A missing file is silently no password, as in libpq.
pub(super) fn lookup(
    path: &Path,
    host: &Host,
    port: u16,
    dbname: &str,
    user: &str,
) -> Option<Vec<u8>> {
    // `metadata` follows symbolic links, as libpq's stat() does.
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() {
        log::warn!(
            "password file \"{}\" is not a plain file; ignoring it",
            path.display()
        );
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o077 != 0 {
            log::warn!(
                "password file \"{}\" has group or world access; ignoring it (permissions \
                 should be u=rw (0600) or less)",
                path.display()
            );
            return None;
        }
    }
    let contents = match std::fs::read(path) {
        Ok(contents) => contents,
        Err(err) => {
            log::warn!("could not read password file \"{}\": {err}", path.display());
            return None;
        }
    };
    find_password(&contents, &host_field(host), port, dbname, user)
}

/// The text a target's host is matched against in the file.
fn host_field(host: &Host) -> String {
    match host {
        Host::Tcp(name) => name.clone(),
        Host::Unix(dir) if DEFAULT_SOCKET_DIRS.iter().any(|d| dir == Path::new(d)) => {
            "localhost".to_owned()
        }
        Host::Unix(dir) => dir.to_string_lossy().into_owned(),
    }
}

/// The password of the first line of `contents` matching the four fields. A matching line with
/// an empty password means no password, as in libpq.
pub(crate) fn find_password(
    contents: &[u8],
    host: &str,
    port: u16,
    dbname: &str,
    user: &str,
) -> Option<Vec<u8>> {
    let port = port.to_string();
    let wanted = [
        host.as_bytes(),
        port.as_bytes(),
        dbname.as_bytes(),
        user.as_bytes(),
    ];
    for line in contents.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        let mut rest = line;
        let matched = wanted.iter().all(|field| match match_field(rest, field) {
            Some(after) => {
                rest = after;
                true
            }
            None => false,
        });
        if matched {
            let password = unescape_password(rest);
            return (!password.is_empty()).then_some(password);
        }
    }
    None
}

/// If the field at the start of `line` (ending at an unescaped `:`) is `*` or equals `wanted`
/// once unescaped, the rest of the line after that `:`.
fn match_field<'a>(line: &'a [u8], wanted: &[u8]) -> Option<&'a [u8]> {
    if let Some(rest) = line.strip_prefix(b"*:") {
        return Some(rest);
    }
    let mut wanted = wanted.iter();
    let mut i = 0;
    while let Some(&b) = line.get(i) {
        let literal = match b {
            b':' => {
                // The field ended: it matched if all of `wanted` was consumed.
                return wanted.next().is_none().then(|| &line[i + 1..]);
            }
            b'\\' => {
                i += 1;
                *line.get(i)?
            }
            other => other,
        };
        if wanted.next() != Some(&literal) {
            return None;
        }
        i += 1;
    }
    // The line ended inside the first four fields: not a complete entry.
    None
}

/// The password field, unescaped; it ends at the end of the line or at an unescaped `:`.
fn unescape_password(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut bytes = field.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b':' => break,
            b'\\' => match bytes.next() {
                Some(&escaped) => out.push(escaped),
                None => out.push(b'\\'),
            },
            other => out.push(other),
        }
    }
    out
}
