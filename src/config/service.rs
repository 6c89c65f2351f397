//! The connection service file (`pg_service.conf`), read with libpq's rules.
//!
//! `service=name` (or `PGSERVICE` when no service is given) names a section. It is looked for
//! in the user's file (`PGSERVICEFILE`, else `~/.pg_service.conf`), then, if that file does not
//! exist or has no such section, in the system file `$PGSYSCONFDIR/pg_service.conf`
//! (`PGSYSCONFDIR` defaults to `/etc/postgresql-common`, where Debian's libpq looks). A missing
//! file is skipped; a service found in neither file is an error.
//!
//! The format is INI-like: `[name]` starts a section (the name compared exactly), `key=value`
//! lines inside it give settings with the same keys as a connection string (whitespace around
//! the key and the value is trimmed, the value is taken literally, without quoting), lines
//! starting with `#` are comments, blank lines are skipped. A section ends at the next `[`.
//! `service=` inside a section is an error, as are LDAP lookups (`ldap://...` lines), which
//! tusk does not support. A value fills only a setting the connection string did not give,
//! and wins over the environment variables. When a key repeats in a section, its first value
//! counts, as in libpq.

use std::path::{Path, PathBuf};

use super::options::is_known_key;
use super::Config;
use crate::Error;

/// Where libpq looks for the system service file when `PGSYSCONFDIR` is not set: the
/// `sysconfdir` of Debian's libpq build.
const DEFAULT_SYSCONFDIR: &str = "/etc/postgresql-common";

/// One `key=value` line of the section that was asked for.
struct Entry {
    line: usize,
    key: String,
    value: String,
}

/// Finds section `name` in the text of a service file. `Ok(None)` when the file has no such
/// section. Errors carry the line number and are completed with the file name by the caller.
fn find_section(text: &str, name: &str) -> Result<Option<Vec<Entry>>, (usize, String)> {
    let mut entries = None::<Vec<Entry>>;
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            if entries.is_some() {
                // The section asked for ends here.
                break;
            }
            let section = line
                .strip_prefix('[')
                .and_then(|l| l.strip_suffix(']'))
                .ok_or_else(|| {
                    (
                        number,
                        "syntax error: a section header must be \"[name]\"".to_owned(),
                    )
                })?;
            if section == name {
                entries = Some(Vec::new());
            }
            continue;
        }
        let Some(entries) = entries.as_mut() else {
            continue;
        };
        if line.starts_with("ldap") {
            return Err((
                number,
                "LDAP lookups in service files are not supported by tusk".to_owned(),
            ));
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err((number, "syntax error: expected key=value".to_owned()));
        };
        let (key, value) = (key.trim(), value.trim());
        if key == "service" {
            return Err((
                number,
                "nested service specifications are not supported in a service file".to_owned(),
            ));
        }
        if !is_known_key(key) {
            return Err((number, format!("invalid connection option \"{key}\"")));
        }
        entries.push(Entry {
            line: number,
            key: key.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(entries)
}

/// Reads `path` and looks for section `name` in it. `Ok(None)` when the file does not exist or
/// has no such section.
fn read_section(path: &Path, name: &str) -> Result<Option<Vec<Entry>>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None)
        }
        Err(e) => {
            return Err(Error::config(format!(
                "could not read service file \"{}\": {e}",
                path.display()
            )))
        }
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        Error::config(format!(
            "service file \"{}\", line {line}: not valid UTF-8",
            path.display()
        ))
    })?;
    find_section(&text, name).map_err(|(line, msg)| {
        Error::config(format!(
            "{msg} (service file \"{}\", line {line})",
            path.display()
        ))
    })
}

/// The user's service file and whether it was named explicitly (`PGSERVICEFILE`), and the
/// system service file.
fn service_files(lookup: &dyn Fn(&str) -> Option<String>) -> (Option<(PathBuf, bool)>, PathBuf) {
    let set = |name: &str| lookup(name).filter(|v| !v.is_empty());
    let user = match set("PGSERVICEFILE") {
        Some(file) => Some((PathBuf::from(file), true)),
        None => set("HOME").map(|home| (Path::new(&home).join(".pg_service.conf"), false)),
    };
    let sysconfdir = set("PGSYSCONFDIR").unwrap_or_else(|| DEFAULT_SYSCONFDIR.to_owned());
    (user, Path::new(&sysconfdir).join("pg_service.conf"))
}

impl Config {
    /// Applies the service file section named by `service` (or `PGSERVICE`, looked up with
    /// `lookup`, when no service is given) to every setting not given yet. Does nothing when
    /// no service is named or the section was applied already.
    pub(super) fn expand_service(
        mut self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, Error> {
        if self.service_expanded {
            return Ok(self);
        }
        let name = match &self.service {
            Some(name) => name.clone(),
            None => lookup("PGSERVICE").unwrap_or_default(),
        };
        if name.is_empty() {
            return Ok(self);
        }
        let (user, system) = service_files(lookup);
        let mut searched = Vec::new();
        let mut found = None;
        for (path, explicit) in user.into_iter().chain([(system, false)]) {
            if let Some(entries) = read_section(&path, &name)? {
                found = Some((path, entries));
                break;
            }
            let missing = !path.exists();
            searched.push(format!(
                "\"{}\"{}{}",
                path.display(),
                if explicit { " (PGSERVICEFILE)" } else { "" },
                if missing {
                    ", which does not exist"
                } else {
                    ""
                }
            ));
        }
        let Some((path, entries)) = found else {
            return Err(Error::config(format!(
                "definition of service \"{name}\" not found (looked in {})",
                searched.join(" and ")
            )));
        };
        self = self.apply_section(entries, &path)?;
        self.service = Some(name);
        self.service_expanded = true;
        Ok(self)
    }

    /// Applies the entries of a section read from `path` to every setting not given yet.
    fn apply_section(mut self, entries: Vec<Entry>, path: &Path) -> Result<Config, Error> {
        for entry in entries {
            if self.is_given(&entry.key) {
                continue;
            }
            self.set_option(&entry.key, entry.value.as_bytes(), true)
                .map_err(|msg| {
                    Error::config(format!(
                        "{msg} (service file \"{}\", line {})",
                        path.display(),
                        entry.line
                    ))
                })?;
        }
        Ok(self)
    }
}

/// A service section's `(key, value)` lines in file order, and the settings they gave.
#[cfg(feature = "fuzzing")]
pub type AppliedSection = (Vec<(String, String)>, Config);

/// The fuzz targets' way in (feature `fuzzing`): section `name` of the service file text
/// `text` as its `(key, value)` lines, and `base` with them applied as
/// [`Config::expand_service`] applies them; `Ok(None)` when the text has no such section.
#[cfg(feature = "fuzzing")]
pub(crate) fn apply_service_text(
    base: Config,
    text: &str,
    name: &str,
) -> Result<Option<AppliedSection>, Error> {
    let path = Path::new("(fuzz input)");
    let entries = find_section(text, name).map_err(|(line, msg)| {
        Error::config(format!(
            "{msg} (service file \"{}\", line {line})",
            path.display()
        ))
    })?;
    let Some(entries) = entries else {
        return Ok(None);
    };
    let lines = entries
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect();
    Ok(Some((lines, base.apply_section(entries, path)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(text: &str, name: &str) -> Vec<(String, String)> {
        find_section(text, name)
            .unwrap()
            .unwrap_or_else(|| panic!("no [{name}]"))
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect()
    }

    #[test]
    fn sections_comments_and_whitespace() {
        let text = "# comment\n\n[a]\nhost=ha\n\n[b]\n  # indented comment\n  host = hb  \n\
                    port=1\r\n[c]\nhost=hc\n";
        assert_eq!(section(text, "a"), [("host".into(), "ha".into())]);
        assert_eq!(
            section(text, "b"),
            [("host".into(), "hb".into()), ("port".into(), "1".into())]
        );
        assert!(find_section(text, "d").unwrap().is_none());
        // Section names are exact.
        assert!(find_section(text, "A").unwrap().is_none());
        assert!(find_section("[ab]\nhost=x\n", "a").unwrap().is_none());
        // Values are literal.
        assert_eq!(
            section("[a]\noptions=-c x='y z' # not a comment\n", "a"),
            [("options".into(), "-c x='y z' # not a comment".into())]
        );
    }

    #[test]
    fn errors_give_the_line() {
        let (line, msg) = find_section("[a]\nhost=x\nservice=b\n", "a").err().unwrap();
        assert_eq!(line, 3);
        assert!(msg.contains("nested service"), "{msg}");
        let (line, msg) = find_section("\n[a]\nnonsense\n", "a").err().unwrap();
        assert_eq!(line, 3);
        assert!(msg.contains("key=value"), "{msg}");
        let (_, msg) = find_section("[a]\nfoo=1\n", "a").err().unwrap();
        assert!(msg.contains("\"foo\""), "{msg}");
        let (line, _) = find_section("[a\n", "a").err().unwrap();
        assert_eq!(line, 1);
        // Lines outside the section asked for are not checked.
        assert!(find_section("[x]\nnonsense\n[a]\nhost=h\n", "a").is_ok());
    }
}
