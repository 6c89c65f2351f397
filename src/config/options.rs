//! One setting by its libpq key: the table of recognized keys and the parsing of their values,
//! shared by the URL parser, the key=value parser and the environment fallback.

use std::path::PathBuf;
use std::time::Duration;

use super::{Config, Host, SslMode, DEFAULT_PORT};

/// Shows `text` quoted in an error message, unless it may be part of a password.
pub(super) fn quoted(text: &str, reveal: bool) -> String {
    if reveal {
        format!("\"{text}\"")
    } else {
        "(text withheld: it follows the password in the string)".to_owned()
    }
}

/// Parses an integer the way libpq's `parse_int_param` does: surrounding whitespace is allowed,
/// anything else after the digits is not.
fn parse_int(value: &str) -> Option<i64> {
    value
        .trim_matches(|c: char| c.is_ascii_whitespace())
        .parse()
        .ok()
}

/// Parses a comma-separated host list. An empty value means "the default host".
pub(super) fn parse_hosts(key: &str, value: &str, reveal: bool) -> Result<Vec<Host>, String> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .enumerate()
        .map(|(i, host)| {
            if host.is_empty() {
                Err(format!(
                    "empty host name at element {} of the \"{key}\" list {}; give every host \
                     (a socket directory starts with '/')",
                    i + 1,
                    quoted(value, reveal)
                ))
            } else {
                Ok(Host::from_setting(host))
            }
        })
        .collect()
}

/// Parses one port number (1 to 65535).
pub(super) fn parse_port(value: &str, reveal: bool) -> Result<u16, String> {
    match parse_int(value) {
        Some(n @ 1..=65535) => Ok(n as u16),
        _ => Err(format!("invalid port number {}", quoted(value, reveal))),
    }
}

/// Parses a comma-separated port list; an empty element means the default port 5432, as in
/// libpq, and an empty value means "the default".
fn parse_ports(value: &str, reveal: bool) -> Result<Vec<u16>, String> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(|port| {
            if port.is_empty() {
                Ok(DEFAULT_PORT)
            } else {
                parse_port(port, reveal)
            }
        })
        .collect()
}

/// `connect_timeout` in seconds, with libpq's rules: zero or negative means wait indefinitely
/// (stored as `Duration::ZERO`), and 1 is raised to libpq's documented minimum of 2.
fn parse_connect_timeout(value: &str, reveal: bool) -> Result<Duration, String> {
    match parse_int(value) {
        Some(n) if n <= 0 => Ok(Duration::ZERO),
        Some(1) => Ok(Duration::from_secs(2)),
        Some(n) => Ok(Duration::from_secs(n.unsigned_abs())),
        None => Err(format!(
            "invalid integer value {} for connection option \"connect_timeout\" (seconds)",
            quoted(value, reveal)
        )),
    }
}

impl Config {
    /// Applies one setting given by its libpq key. `value` is bytes because a percent-decoded
    /// password need not be UTF-8; every other value must be.
    ///
    /// `reveal` is false when the setting comes after a password in the same string: then the
    /// error quotes neither the key nor the value, since they may be pieces of a password whose
    /// quoting went wrong. The returned message is completed by the caller (position, source).
    pub(super) fn set_option(
        &mut self,
        key: &str,
        value: &[u8],
        reveal: bool,
    ) -> Result<(), String> {
        if key == "password" {
            self.password = Some(value.to_vec());
            return Ok(());
        }
        let Ok(value) = std::str::from_utf8(value) else {
            return Err(if is_known_key(key) {
                format!("the value of \"{key}\" is not valid UTF-8")
            } else {
                format!("invalid connection option {}", quoted(key, reveal))
            });
        };
        let text = || Some(value.to_owned());
        match key {
            "host" | "hostaddr" => self.hosts = Some(parse_hosts(key, value, reveal)?),
            "port" => self.ports = Some(parse_ports(value, reveal)?),
            "user" => self.user = text(),
            "dbname" => self.dbname = text(),
            "application_name" => self.application_name = text(),
            "fallback_application_name" => self.fallback_application_name = text(),
            "options" => self.options = text(),
            "connect_timeout" => {
                self.connect_timeout = Some(parse_connect_timeout(value, reveal)?);
            }
            "sslmode" => {
                let mode = SslMode::from_setting(value).ok_or_else(|| {
                    format!(
                        "invalid sslmode value {}; expected disable, allow, prefer, require, \
                         verify-ca or verify-full",
                        quoted(value, reveal)
                    )
                })?;
                self.ssl_mode = Some(mode);
            }
            "passfile" => self.passfile = Some(PathBuf::from(value)),
            "statement_cache_capacity" => {
                self.statement_cache_capacity = value.trim().parse().map_err(|_| {
                    format!(
                        "invalid value {} for \"statement_cache_capacity\"; expected a \
                         non-negative integer",
                        quoted(value, reveal)
                    )
                })?;
            }
            "statement_timeout" => {
                let millis: u64 = value.trim().parse().map_err(|_| {
                    format!(
                        "invalid value {} for \"statement_timeout\"; expected a non-negative \
                         integer (milliseconds, 0 for no limit)",
                        quoted(value, reveal)
                    )
                })?;
                self.statement_timeout = Some(Duration::from_millis(millis));
            }
            _ => return Err(format!("invalid connection option {}", quoted(key, reveal))),
        }
        Ok(())
    }
}

/// Whether `key` is one of the keys [`Config::set_option`] accepts.
pub(super) fn is_known_key(key: &str) -> bool {
    matches!(
        key,
        "host"
            | "hostaddr"
            | "port"
            | "user"
            | "password"
            | "dbname"
            | "application_name"
            | "fallback_application_name"
            | "options"
            | "connect_timeout"
            | "sslmode"
            | "passfile"
            | "statement_cache_capacity"
            | "statement_timeout"
    )
}
