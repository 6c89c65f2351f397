//! libpq's connection URL:
//! `postgres[ql]://[user[:password]@][host][:port][,host2[:port2]...][/dbname][?key=value&...]`.
//!
//! Every part is percent-decoded. A host in brackets is an IPv6 address (`[::1]:5432`); a host
//! that decodes to a path (`%2Fvar%2Frun%2Fpostgresql`) is a socket directory. Query parameters
//! take the same keys as the key=value form and override the parts before them
//! (`postgres:///db?host=/tmp`).

use super::options::{parse_port, quoted};
use super::{Config, Host, SslMode, DEFAULT_PORT};
use crate::Error;

const SCHEMES: [&str; 2] = ["postgresql://", "postgres://"];

/// Whether `s` is written as a URL rather than as key=value settings.
pub(super) fn is_url(s: &str) -> bool {
    let s = s.trim_start();
    SCHEMES.iter().any(|scheme| s.starts_with(scheme))
}

/// Percent-decodes `text`, which starts at byte `at` of the URL; `part` names it in errors.
/// Errors give positions only: the text may be a password.
fn decode(text: &str, at: usize, part: &str) -> Result<Vec<u8>, Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0 {
            // A raw NUL is refused like an encoded one: the user name, host and database name
            // do not go through `Config::set_option`, which refuses it for the other forms.
            return Err(Error::config(format!(
                "NUL byte at position {} in the {part} of the URL is not allowed",
                at + i + 1
            )));
        }
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let hex = |j: usize| bytes.get(j).and_then(|&b| (b as char).to_digit(16));
        let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
            return Err(Error::config(format!(
                "invalid percent-encoding at position {} in the {part} of the URL; \
                 write '%' followed by two hexadecimal digits",
                at + i + 1
            )));
        };
        // Two hex digits are at most 0xff, so the cast is lossless.
        let byte = (hi * 16 + lo) as u8;
        if byte == 0 {
            return Err(Error::config(format!(
                "percent-encoded NUL byte (%00) at position {} in the {part} of the URL is not \
                 allowed",
                at + i + 1
            )));
        }
        out.push(byte);
        i += 3;
    }
    Ok(out)
}

/// Percent-decodes a part that must be text (everything but the password).
fn decode_text(text: &str, at: usize, part: &str) -> Result<String, Error> {
    String::from_utf8(decode(text, at, part)?).map_err(|_| {
        Error::config(format!(
            "the {part} at position {} of the URL is not valid UTF-8 once percent-decoded",
            at + 1
        ))
    })
}

/// Percent-decodes one host of the host list, which starts at byte `at` of the URL.
///
/// A decoded `,` is refused: libpq joins the still-encoded hosts with `,` and decodes the
/// whole list, so `%2C` separates hosts there, while here it would end up inside one host
/// name, which no key=value string can express (and no host name holds). Found by the
/// `config_parse` fuzz target, whose printed-back hosts split differently.
fn host_text(text: &str, at: usize) -> Result<String, Error> {
    let host = decode_text(text, at, "host")?;
    if host.contains(',') {
        return Err(Error::config(format!(
            "percent-encoded ',' in the host at position {} of the URL; separate hosts with a \
             plain ','",
            at + 1
        )));
    }
    Ok(host)
}

/// Parses a whole URL into a fresh [`Config`]. The caller has checked [`is_url`].
pub(super) fn parse(input: &str) -> Result<Config, Error> {
    // Surrounding whitespace is not part of a URL (it often comes from a file or a variable).
    let s = input.trim_end();
    let start = s.len() - s.trim_start().len();
    let scheme_len = SCHEMES
        .iter()
        .find(|scheme| s[start..].starts_with(*scheme))
        .map_or(0, |scheme| scheme.len());
    let mut pos = start + scheme_len;
    let mut config = Config::new();

    // The authority (credentials and hosts) ends at the first '/' or '?'.
    let auth_end = s[pos..].find(['/', '?']).map_or(s.len(), |i| pos + i);
    if let Some(at) = s[pos..auth_end].rfind('@') {
        let at = pos + at;
        let userinfo = &s[pos..at];
        let (user, password) = match userinfo.find(':') {
            Some(colon) => (
                &userinfo[..colon],
                Some((pos + colon + 1, &userinfo[colon + 1..])),
            ),
            None => (userinfo, None),
        };
        if !user.is_empty() {
            config.user = Some(decode_text(user, pos, "user name")?);
        }
        if let Some((password_at, password)) = password {
            if !password.is_empty() {
                config.password = Some(decode(password, password_at, "password")?);
            }
        }
        pos = at + 1;
    }

    parse_hosts(s, pos, auth_end, &mut config)?;
    pos = auth_end;
    // An '@' after the authority means the credentials may have been split in the wrong place
    // (a password holding an unencoded '/' or '?'), so later text may be a piece of a password.
    let reveal = !s[auth_end..].contains('@');

    if s[pos..].starts_with('/') {
        pos += 1;
        let end = s[pos..].find('?').map_or(s.len(), |i| pos + i);
        let dbname = decode_text(&s[pos..end], pos, "database name")?;
        if !dbname.is_empty() {
            config.dbname = Some(dbname);
        }
        pos = end;
    }

    if s[pos..].starts_with('?') {
        parse_query(s, pos + 1, reveal, &mut config)?;
    }
    Ok(config)
}

/// Parses `host[:port][,host[:port]...]` in `s[pos..end]` into the config's hosts and ports.
fn parse_hosts(s: &str, mut pos: usize, end: usize, config: &mut Config) -> Result<(), Error> {
    if pos == end {
        return Ok(());
    }
    let bytes = s.as_bytes();
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    let mut element = 0;
    loop {
        element += 1;
        let element_at = pos;
        // `pos` may equal `end` after a trailing ','; the empty element is reported below.
        let host = if pos < end && bytes[pos] == b'[' {
            let close = s[pos..end].find(']').map(|i| pos + i).ok_or_else(|| {
                Error::config(format!(
                    "missing \"]\" after the IPv6 address that starts at position {} in the URL",
                    pos + 1
                ))
            })?;
            if close == pos + 1 {
                return Err(Error::config(format!(
                    "empty IPv6 address in brackets at position {} in the URL",
                    pos + 1
                )));
            }
            let addr = host_text(&s[pos + 1..close], pos + 1)?;
            pos = close + 1;
            Some(Host::Tcp(addr))
        } else {
            let host_end = s[pos..end].find([':', ',']).map_or(end, |i| pos + i);
            let name = host_text(&s[pos..host_end], pos)?;
            pos = host_end;
            (!name.is_empty()).then(|| Host::from_setting(&name))
        };

        let mut port = None;
        if pos < end && bytes[pos] == b':' {
            let port_at = pos + 1;
            let port_end = s[port_at..end].find(',').map_or(end, |i| port_at + i);
            let text = decode_text(&s[port_at..port_end], port_at, "port")?;
            if !text.is_empty() {
                // Not quoted: with an unencoded '/' or '?' in a password, the text seen here
                // is a piece of that password.
                port = Some(parse_port(&text, true).map_err(|_| {
                    Error::config(format!(
                        "invalid port number at position {} in the URL (expected 1 to 65535)",
                        port_at + 1
                    ))
                })?);
            }
            pos = port_end;
        }
        if pos < end && bytes[pos] != b',' {
            // Only reachable right after "[address]": the other branches stop at ':' or ','.
            return Err(Error::config(format!(
                "unexpected character at position {} in the URL: expected ':', ',' or '/' \
                 after the IPv6 address",
                pos + 1
            )));
        }

        match host {
            Some(host) => hosts.push(host),
            // libpq would take an empty element as "the default socket directory"; tusk asks
            // for it explicitly (see the module notes). A lone empty host is just "no host".
            None if element > 1 || pos < end => {
                return Err(Error::config(format!(
                    "empty host name in element {element} of the host list at position {} in \
                     the URL",
                    element_at + 1
                )))
            }
            None => {}
        }
        ports.push(port);

        if pos < end {
            pos += 1; // the ','
        } else {
            break;
        }
    }
    if !hosts.is_empty() {
        config.hosts = Some(hosts);
    }
    // A port missing from one element but given for another is the default port, as in libpq.
    if ports.iter().any(Option::is_some) {
        config.ports = Some(
            ports
                .into_iter()
                .map(|p| p.unwrap_or(DEFAULT_PORT))
                .collect(),
        );
    }
    Ok(())
}

/// Parses `key=value&key=value` starting at byte `pos` of `s`.
/// `reveal` is false when the query text may hold a piece of a password.
fn parse_query(s: &str, mut pos: usize, reveal: bool, config: &mut Config) -> Result<(), Error> {
    let mut reveal = reveal;
    while pos <= s.len() {
        let end = s[pos..].find('&').map_or(s.len(), |i| pos + i);
        let param = &s[pos..end];
        if !param.is_empty() {
            let Some(eq) = param.find('=') else {
                return Err(Error::config(format!(
                    "missing \"=\" in the URL query parameter {} at position {}",
                    quoted(param, reveal),
                    pos + 1
                )));
            };
            let (key, value) = (&param[..eq], &param[eq + 1..]);
            let value_at = pos + eq + 1;
            if value.contains('=') {
                return Err(Error::config(format!(
                    "extra \"=\" in the value of the URL query parameter at position {}; \
                     write it as %3D",
                    pos + 1
                )));
            }
            let key = decode_text(key, pos, "query parameter name")?;
            let value = decode(value, value_at, "query parameter value")?;
            if key == "ssl" {
                // libpq's JDBC-compatible spelling.
                if value != b"true" {
                    return Err(Error::config(format!(
                        "invalid value for the URL query parameter \"ssl\" at position {}; \
                         only \"true\" is accepted",
                        value_at + 1
                    )));
                }
                config.ssl_mode = Some(SslMode::Require);
            } else {
                config.set_option(&key, &value, reveal).map_err(|msg| {
                    Error::config(format!(
                        "{msg} (URL query parameter at position {})",
                        pos + 1
                    ))
                })?;
                if key == "password" || key == "sslpassword" {
                    reveal = false;
                }
            }
        }
        pos = end + 1;
    }
    Ok(())
}
