//! One setting by its libpq key: the table of recognized keys and the parsing of their values,
//! shared by the URL parser, the key=value parser and the environment fallback.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{
    Config, GssEncMode, Host, LoadBalanceHosts, Replication, SslCertMode, SslMode, SslNegotiation,
    SslProtocolVersion, TargetSessionAttrs, DEFAULT_PORT,
};
use crate::proto::auth::{ChannelBinding, RequireAuth};
use crate::proto::ProtocolVersion;

/// Every key [`Config::set_option`] accepts: libpq 17's, libpq 18's protocol versions, then
/// tusk's own.
pub(super) const KEYS: [&str; 46] = [
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "require_auth",
    "channel_binding",
    "connect_timeout",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "sslmode",
    "sslnegotiation",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "min_protocol_version",
    "max_protocol_version",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "service",
    "target_session_attrs",
    "load_balance_hosts",
    "statement_cache_capacity",
    "statement_timeout",
    "cancel_timeout",
];

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

/// Parses the `hostaddr` list: numeric IP addresses, an empty element meaning "no address
/// for this host". An empty value means "none given".
fn parse_hostaddrs(value: &str, reveal: bool) -> Result<Vec<Option<IpAddr>>, String> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .enumerate()
        .map(|(i, addr)| {
            if addr.is_empty() {
                return Ok(None);
            }
            addr.parse::<IpAddr>().map(Some).map_err(|_| {
                format!(
                    "invalid IP address {} at element {} of \"hostaddr\"; hostaddr takes \
                     numeric addresses only (put host names in \"host\")",
                    quoted(addr, reveal),
                    i + 1
                )
            })
        })
        .collect()
}

/// A `0`/`1` switch (`sslsni`, `sslcompression`, `gssdelegation`).
fn parse_switch(key: &str, value: &str, reveal: bool) -> Result<bool, String> {
    match value.trim_matches(|c: char| c.is_ascii_whitespace()) {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(format!(
            "invalid value {} for \"{key}\"; expected 0 or 1",
            quoted(value, reveal)
        )),
    }
}

/// A non-negative integer count of `unit`s, where 0 means the system default.
fn parse_count(key: &str, value: &str, unit: &str, reveal: bool) -> Result<u32, String> {
    match parse_int(value) {
        Some(n) if (0..=i64::from(u32::MAX)).contains(&n) => Ok(n as u32),
        _ => Err(format!(
            "invalid value {} for \"{key}\"; expected a non-negative integer ({unit}, 0 for \
             the system default)",
            quoted(value, reveal)
        )),
    }
}

/// tusk's own time limits, in milliseconds; `zero` says what 0 means, if anything special.
fn parse_millis(key: &str, value: &str, zero: &str, reveal: bool) -> Result<Duration, String> {
    let millis: u64 = value.trim().parse().map_err(|_| {
        format!(
            "invalid value {} for \"{key}\"; expected a non-negative integer \
             (milliseconds{zero})",
            quoted(value, reveal)
        )
    })?;
    Ok(Duration::from_millis(millis))
}

/// `client_encoding`: tusk exchanges text as UTF8 only, so only UTF-8's names (and `auto`,
/// which libpq resolves from the locale and tusk takes as UTF8) are accepted.
pub(super) fn check_client_encoding(value: &str, reveal: bool) -> Result<(), String> {
    if value.is_empty() || value.eq_ignore_ascii_case("auto") || is_utf8_name(value) {
        Ok(())
    } else {
        Err(format!(
            "invalid client_encoding {}: tusk exchanges text as UTF8 only; use UTF8 (or auto)",
            quoted(value, reveal)
        ))
    }
}

/// Whether `name` is one of the server's names for UTF-8, in any case.
pub(super) fn is_utf8_name(name: &str) -> bool {
    ["UTF8", "UTF-8", "UNICODE"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

/// The error for a value that is not one of a few words.
fn not_one_of(key: &str, value: &str, expected: &str, reveal: bool) -> String {
    format!(
        "invalid {key} value {}; expected {expected}",
        quoted(value, reveal)
    )
}

/// The error for a `require_auth` / `channel_binding` value its parser refused: the key and
/// the value, then the parser's reason (which quotes a piece of the value, so it is left out
/// when the value may be a piece of a password).
fn policy_error(key: &str, value: &str, reason: String, reveal: bool) -> String {
    if reveal {
        format!("invalid {key} value {}: {reason}", quoted(value, true))
    } else {
        format!("invalid {key} value {}", quoted(value, false))
    }
}

/// `ssl_min_protocol_version` / `ssl_max_protocol_version`; empty means the default.
fn parse_protocol_version(
    key: &str,
    value: &str,
    reveal: bool,
) -> Result<Option<SslProtocolVersion>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    SslProtocolVersion::from_setting(value)
        .map(Some)
        .ok_or_else(|| not_one_of(key, value, "TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3", reveal))
}

/// `min_protocol_version` / `max_protocol_version` (libpq 18): `3.0`, `3.2` or `latest` (the
/// newest tusk speaks, 3.2); empty means the default. Like libpq, the value is read as
/// `<major>.<minor>` numbers, so `3.00` is 3.0; 3.1 never existed and is refused, as is any
/// version outside 3.0..=3.2.
fn parse_pg_protocol_version(
    key: &str,
    value: &str,
    reveal: bool,
) -> Result<Option<ProtocolVersion>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    if value == "latest" {
        return Ok(Some(ProtocolVersion::LATEST));
    }
    let number = |part: &str| -> Option<u16> {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let version = value.split_once('.').and_then(|(major, minor)| {
        Some(ProtocolVersion {
            major: number(major)?,
            minor: number(minor)?,
        })
    });
    match version {
        Some(version) if version.is_supported() => Ok(Some(version)),
        _ => Err(not_one_of(key, value, "3.0, 3.2 or latest", reveal)),
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
        // A setting is a C string to the server and to libpq: a NUL would end it there, so it
        // is refused in every form (the URL's percent-decoding refuses `%00` itself, with its
        // position). Found by the `config_parse` fuzz target: key=value and service files let
        // it through, so the same setting was accepted in one form and refused in the other.
        if value.contains(&0) {
            return Err(if is_known_key(key) {
                format!("the value of \"{key}\" contains a NUL byte, which no setting can hold")
            } else {
                format!("invalid connection option {}", quoted(key, reveal))
            });
        }
        match key {
            "password" => {
                self.password = Some(value.to_vec());
                return Ok(());
            }
            "sslpassword" => {
                self.ssl_password = Some(value.to_vec());
                return Ok(());
            }
            _ => {}
        }
        let Ok(value) = std::str::from_utf8(value) else {
            return Err(if is_known_key(key) {
                format!("the value of \"{key}\" is not valid UTF-8")
            } else {
                format!("invalid connection option {}", quoted(key, reveal))
            });
        };
        let text = || Some(value.to_owned());
        let path = || Some(PathBuf::from(value));
        match key {
            "host" => self.hosts = Some(parse_hosts(key, value, reveal)?),
            "hostaddr" => self.hostaddrs = Some(parse_hostaddrs(value, reveal)?),
            "port" => self.ports = Some(parse_ports(value, reveal)?),
            "user" => self.user = text(),
            "dbname" => self.dbname = text(),
            "passfile" => self.passfile = path(),
            "require_auth" => {
                self.require_auth = Some(if value.is_empty() {
                    RequireAuth::ANY
                } else {
                    value
                        .parse()
                        .map_err(|e| policy_error(key, value, e, reveal))?
                });
            }
            "channel_binding" => {
                self.channel_binding = Some(
                    value
                        .parse::<ChannelBinding>()
                        .map_err(|e| policy_error(key, value, e, reveal))?,
                );
            }
            "connect_timeout" => {
                self.connect_timeout = Some(parse_connect_timeout(value, reveal)?);
            }
            "client_encoding" => {
                check_client_encoding(value, reveal)?;
                self.client_encoding = text();
            }
            "options" => self.options = text(),
            "application_name" => self.application_name = text(),
            "fallback_application_name" => self.fallback_application_name = text(),
            "keepalives" => {
                // libpq: any integer, non-zero meaning on.
                let n = parse_int(value).ok_or_else(|| {
                    format!(
                        "invalid value {} for \"keepalives\"; expected 0 or 1",
                        quoted(value, reveal)
                    )
                })?;
                self.keepalives = Some(n != 0);
            }
            "keepalives_idle" => {
                let secs = parse_count(key, value, "seconds", reveal)?;
                self.keepalives_idle = Some(Duration::from_secs(secs.into()));
            }
            "keepalives_interval" => {
                let secs = parse_count(key, value, "seconds", reveal)?;
                self.keepalives_interval = Some(Duration::from_secs(secs.into()));
            }
            "keepalives_count" => {
                self.keepalives_count = Some(parse_count(key, value, "probes", reveal)?);
            }
            "tcp_user_timeout" => {
                let millis = parse_count(key, value, "milliseconds", reveal)?;
                self.tcp_user_timeout = Some(Duration::from_millis(millis.into()));
            }
            "replication" => {
                self.replication = Some(if value.is_empty() {
                    Replication::Off
                } else {
                    Replication::from_setting(value).ok_or_else(|| {
                        not_one_of(
                            key,
                            value,
                            "true, on, yes, 1, database, false, off, no or 0",
                            reveal,
                        )
                    })?
                });
            }
            "gssencmode" => {
                self.gss_enc_mode =
                    Some(GssEncMode::from_setting(value).ok_or_else(|| {
                        not_one_of(key, value, "disable, prefer or require", reveal)
                    })?);
            }
            "sslmode" => {
                let mode = SslMode::from_setting(value).ok_or_else(|| {
                    not_one_of(
                        key,
                        value,
                        "disable, allow, prefer, require, verify-ca or verify-full",
                        reveal,
                    )
                })?;
                self.ssl_mode = Some(mode);
            }
            "sslnegotiation" => {
                self.ssl_negotiation = Some(
                    SslNegotiation::from_setting(value)
                        .ok_or_else(|| not_one_of(key, value, "postgres or direct", reveal))?,
                );
            }
            "sslcompression" => self.ssl_compression = Some(parse_switch(key, value, reveal)?),
            "sslcert" => self.ssl_cert = path(),
            "sslkey" => self.ssl_key = path(),
            "sslcertmode" => {
                self.ssl_cert_mode =
                    Some(SslCertMode::from_setting(value).ok_or_else(|| {
                        not_one_of(key, value, "disable, allow or require", reveal)
                    })?);
            }
            "sslrootcert" => self.ssl_root_cert = path(),
            "sslcrl" => self.ssl_crl = path(),
            "sslcrldir" => self.ssl_crl_dir = path(),
            "sslsni" => self.ssl_sni = Some(parse_switch(key, value, reveal)?),
            "requirepeer" => self.require_peer = text(),
            "ssl_min_protocol_version" => {
                self.ssl_min_protocol_version = Some(parse_protocol_version(key, value, reveal)?);
            }
            "ssl_max_protocol_version" => {
                self.ssl_max_protocol_version = Some(parse_protocol_version(key, value, reveal)?);
            }
            "min_protocol_version" => {
                self.min_protocol_version = Some(parse_pg_protocol_version(key, value, reveal)?);
            }
            "max_protocol_version" => {
                self.max_protocol_version = Some(parse_pg_protocol_version(key, value, reveal)?);
            }
            "krbsrvname" => self.krb_srv_name = text(),
            "gsslib" => self.gss_lib = text(),
            "gssdelegation" => self.gss_delegation = Some(parse_switch(key, value, reveal)?),
            "service" => {
                self.service = text();
                self.service_expanded = false;
            }
            "target_session_attrs" => {
                self.target_session_attrs =
                    Some(TargetSessionAttrs::from_setting(value).ok_or_else(|| {
                        not_one_of(
                            key,
                            value,
                            "any, read-write, read-only, primary, standby or prefer-standby",
                            reveal,
                        )
                    })?);
            }
            "load_balance_hosts" => {
                self.load_balance_hosts = Some(
                    LoadBalanceHosts::from_setting(value)
                        .ok_or_else(|| not_one_of(key, value, "disable or random", reveal))?,
                );
            }
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
                self.statement_timeout =
                    Some(parse_millis(key, value, ", 0 for no limit", reveal)?);
            }
            "cancel_timeout" => {
                self.cancel_timeout = Some(parse_millis(key, value, "", reveal)?);
            }
            _ => return Err(format!("invalid connection option {}", quoted(key, reveal))),
        }
        Ok(())
    }

    /// Whether the setting behind `key` was given (possibly as an empty string), so that the
    /// service file and the environment leave it alone.
    pub(super) fn is_given(&self, key: &str) -> bool {
        match key {
            "host" => self.hosts.is_some(),
            "hostaddr" => self.hostaddrs.is_some(),
            "port" => self.ports.is_some(),
            "dbname" => self.dbname.is_some(),
            "user" => self.user.is_some(),
            "password" => self.password.is_some(),
            "passfile" => self.passfile.is_some(),
            "require_auth" => self.require_auth.is_some(),
            "channel_binding" => self.channel_binding.is_some(),
            "connect_timeout" => self.connect_timeout.is_some(),
            "client_encoding" => self.client_encoding.is_some(),
            "options" => self.options.is_some(),
            "application_name" => self.application_name.is_some(),
            "fallback_application_name" => self.fallback_application_name.is_some(),
            "keepalives" => self.keepalives.is_some(),
            "keepalives_idle" => self.keepalives_idle.is_some(),
            "keepalives_interval" => self.keepalives_interval.is_some(),
            "keepalives_count" => self.keepalives_count.is_some(),
            "tcp_user_timeout" => self.tcp_user_timeout.is_some(),
            "replication" => self.replication.is_some(),
            "gssencmode" => self.gss_enc_mode.is_some(),
            "sslmode" => self.ssl_mode.is_some(),
            "sslnegotiation" => self.ssl_negotiation.is_some(),
            "sslcompression" => self.ssl_compression.is_some(),
            "sslcert" => self.ssl_cert.is_some(),
            "sslkey" => self.ssl_key.is_some(),
            "sslpassword" => self.ssl_password.is_some(),
            "sslcertmode" => self.ssl_cert_mode.is_some(),
            "sslrootcert" => self.ssl_root_cert.is_some(),
            "sslcrl" => self.ssl_crl.is_some(),
            "sslcrldir" => self.ssl_crl_dir.is_some(),
            "sslsni" => self.ssl_sni.is_some(),
            "requirepeer" => self.require_peer.is_some(),
            "ssl_min_protocol_version" => self.ssl_min_protocol_version.is_some(),
            "ssl_max_protocol_version" => self.ssl_max_protocol_version.is_some(),
            "min_protocol_version" => self.min_protocol_version.is_some(),
            "max_protocol_version" => self.max_protocol_version.is_some(),
            "krbsrvname" => self.krb_srv_name.is_some(),
            "gsslib" => self.gss_lib.is_some(),
            "gssdelegation" => self.gss_delegation.is_some(),
            "service" => self.service.is_some(),
            "target_session_attrs" => self.target_session_attrs.is_some(),
            "load_balance_hosts" => self.load_balance_hosts.is_some(),
            // No "unset" state: a capacity other than the default counts as given.
            "statement_cache_capacity" => {
                self.statement_cache_capacity != super::DEFAULT_STATEMENT_CACHE_CAPACITY
            }
            "statement_timeout" => self.statement_timeout.is_some(),
            "cancel_timeout" => self.cancel_timeout.is_some(),
            _ => true,
        }
    }
}

/// Whether `key` is one of the keys [`Config::set_option`] accepts.
pub(super) fn is_known_key(key: &str) -> bool {
    KEYS.contains(&key)
}
