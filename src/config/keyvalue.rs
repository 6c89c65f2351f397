//! libpq's `key=value` connection string: `host=localhost port=5432 dbname='my db'`.
//!
//! The rules are libpq's (`conninfo_parse`): settings are separated by whitespace; spaces around
//! `=` are allowed; a value is either unquoted (ending at whitespace) or single-quoted (ending at
//! the closing quote, spaces allowed); in both, a backslash takes the next character literally
//! (`\'`, `\\`, `\ `). A key given twice keeps its last value.

use super::options::quoted;
use super::Config;
use crate::Error;

/// C's `isspace` in the "C" locale, which is what libpq splits on.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Parses a whole `key=value` string into a fresh [`Config`].
pub(super) fn parse(input: &str) -> Result<Config, Error> {
    let bytes = input.as_bytes();
    let mut config = Config::new();
    let mut pos = 0;
    // Once a password has been read, later text may be pieces of a password whose quoting went
    // wrong: errors stop quoting it.
    let mut reveal = true;
    loop {
        while pos < bytes.len() && is_space(bytes[pos]) {
            pos += 1;
        }
        if pos == bytes.len() {
            return Ok(config);
        }

        let key_start = pos;
        while pos < bytes.len() && bytes[pos] != b'=' && !is_space(bytes[pos]) {
            pos += 1;
        }
        // Both ends are at ASCII bytes or the ends of the string, so this slice is on char
        // boundaries.
        let key = &input[key_start..pos];
        while pos < bytes.len() && is_space(bytes[pos]) {
            pos += 1;
        }
        if bytes.get(pos) != Some(&b'=') {
            return Err(Error::config(format!(
                "missing \"=\" after {} at position {} in the connection string",
                quoted(key, reveal),
                key_start + 1
            )));
        }
        if key.is_empty() {
            return Err(Error::config(format!(
                "missing key before \"=\" at position {} in the connection string",
                pos + 1
            )));
        }
        pos += 1;
        while pos < bytes.len() && is_space(bytes[pos]) {
            pos += 1;
        }

        let value_start = pos;
        let mut value = Vec::new();
        if bytes.get(pos) == Some(&b'\'') {
            pos += 1;
            loop {
                match bytes.get(pos) {
                    None => {
                        return Err(Error::config(format!(
                            "unterminated quoted string: the value of {} opened at position {} \
                             has no closing quote",
                            quoted(key, reveal),
                            value_start + 1
                        )))
                    }
                    Some(b'\\') => {
                        pos += 1;
                        if let Some(&b) = bytes.get(pos) {
                            value.push(b);
                            pos += 1;
                        }
                    }
                    Some(b'\'') => {
                        pos += 1;
                        break;
                    }
                    Some(&b) => {
                        value.push(b);
                        pos += 1;
                    }
                }
            }
        } else {
            while let Some(&b) = bytes.get(pos) {
                if is_space(b) {
                    break;
                }
                if b == b'\\' {
                    pos += 1;
                    if let Some(&escaped) = bytes.get(pos) {
                        value.push(escaped);
                        pos += 1;
                    }
                } else {
                    value.push(b);
                    pos += 1;
                }
            }
        }

        config.set_option(key, &value, reveal).map_err(|msg| {
            Error::config(format!(
                "{msg} (setting at position {} in the connection string)",
                key_start + 1
            ))
        })?;
        if key == "password" || key == "sslpassword" {
            reveal = false;
        }
    }
}
