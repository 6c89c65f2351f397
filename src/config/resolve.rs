//! libpq's defaults and rules applied to a [`Config`]: what the connection layer actually uses.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::options::check_client_encoding;
use super::{
    Config, GssEncMode, Host, LoadBalanceHosts, Replication, RootCert, SslMode, SslNegotiation,
    TargetSessionAttrs, TlsSettings, DEFAULT_PORT,
};
use crate::proto::auth::{ChannelBinding, RequireAuth};
use crate::proto::VersionBounds;
use crate::Error;

/// Where a server's socket is looked for when no host is given: Debian's and Red Hat's
/// directory first, then upstream PostgreSQL's default.
const SOCKET_DIRS: [&str; 2] = ["/var/run/postgresql", "/tmp"];

/// Settings the driver sends at startup because its decoders depend on them (text values in
/// UTF-8, ISO dates, floats that round-trip).
const DRIVER_PARAMS: [(&str, &str); 3] = [
    ("client_encoding", "UTF8"),
    ("DateStyle", "ISO"),
    ("extra_float_digits", "3"),
];

/// One server to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The host: what TLS verifies and sends as SNI, and what the password file is matched
    /// against. Without `hostaddr`, also what the socket connects to.
    pub host: Host,
    /// `hostaddr`: when set, the socket connects to this address (no name lookup) instead of
    /// resolving `host`.
    pub hostaddr: Option<IpAddr>,
    /// The port.
    pub port: u16,
}

/// The TCP keepalive settings (libpq's `keepalives*`), for TCP sockets only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keepalives {
    /// Whether keepalives are switched on (`keepalives`, default true).
    pub enabled: bool,
    /// Idle time before the first probe; `None` = the system default.
    pub idle: Option<Duration>,
    /// Time between probes; `None` = the system default.
    pub interval: Option<Duration>,
    /// Unanswered probes before the connection is dropped; `None` = the system default.
    pub count: Option<u32>,
}

/// A [`Config`] with every default applied, as the connection layer needs it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// The servers to try, in order (shuffled with `load_balance_hosts=random`).
    pub targets: Vec<Target>,
    /// The user name to log in as.
    pub user: String,
    /// The database to connect to.
    pub dbname: String,
    /// The password given explicitly; the password file is consulted per target by
    /// [`Resolved::password_for`].
    pub password: Option<Vec<u8>>,
    /// The password file given (`passfile`, possibly from the service file); `None` means
    /// `~/.pgpass`.
    pub passfile: Option<PathBuf>,
    /// The name/value pairs of the StartupMessage, `user` and `database` first.
    pub startup_params: Vec<(String, String)>,
    /// How long each target may take to connect; `None` waits indefinitely.
    pub connect_timeout: Option<Duration>,
    /// How many prepared statements to cache; 0 sends every statement unnamed.
    pub statement_cache_capacity: usize,
    /// The largest backend message accepted.
    pub max_message_len: usize,
    /// The TLS settings with libpq's defaults and rules applied.
    pub tls: TlsSettings,
    /// `channel_binding`.
    pub channel_binding: ChannelBinding,
    /// `require_auth`.
    pub require_auth: RequireAuth,
    /// The TCP keepalive settings.
    pub keepalives: Keepalives,
    /// `tcp_user_timeout`; `None` = the system default.
    pub tcp_user_timeout: Option<Duration>,
    /// `requirepeer`: the OS user the server must run as, checked on Unix-domain sockets.
    pub requirepeer: Option<String>,
    /// `target_session_attrs`: the kind of server session wanted.
    pub target_session_attrs: TargetSessionAttrs,
    /// `load_balance_hosts=random`: the addresses of each host name are shuffled too.
    pub load_balance: bool,
    /// `min_protocol_version` and `max_protocol_version` (the version asked for).
    pub protocol: VersionBounds,
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolved")
            .field("targets", &self.targets)
            .field("user", &self.user)
            .field("dbname", &self.dbname)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("passfile", &self.passfile)
            .field("startup_params", &self.startup_params)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_cache_capacity", &self.statement_cache_capacity)
            .field("max_message_len", &self.max_message_len)
            .field("tls", &self.tls)
            .field("channel_binding", &self.channel_binding)
            .field("require_auth", &self.require_auth)
            .field("keepalives", &self.keepalives)
            .field("tcp_user_timeout", &self.tcp_user_timeout)
            .field("requirepeer", &self.requirepeer)
            .field("target_session_attrs", &self.target_session_attrs)
            .field("load_balance", &self.load_balance)
            .field("protocol", &self.protocol)
            .finish()
    }
}

/// The host used when none is given: the first of [`SOCKET_DIRS`] holding the server's socket
/// file for `port`, else `localhost` over TCP.
fn default_host(port: u16, exists: &dyn Fn(&Path) -> bool) -> Host {
    SOCKET_DIRS
        .iter()
        .map(Path::new)
        .find(|dir| exists(&dir.join(format!(".s.PGSQL.{port}"))))
        .map_or_else(
            || Host::Tcp("localhost".to_owned()),
            |dir| Host::Unix(dir.to_path_buf()),
        )
}

/// Checks that a StartupMessage string can be sent as a NUL-terminated string.
fn check_no_nul(what: &str, value: &str) -> Result<(), Error> {
    if value.contains('\0') {
        return Err(Error::config(format!("the {what} contains a NUL byte")));
    }
    Ok(())
}

/// A uniformly random index below `n` (`n > 0`), from the operating system's generator.
pub(crate) fn random_below(n: usize) -> Result<usize, Error> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::config(format!(
            "load_balance_hosts=random: could not draw a random number: {e}"
        ))
    })?;
    // The modulo bias is at most n / 2^64: negligible for host lists.
    Ok((u64::from_le_bytes(bytes) % n as u64) as usize)
}

/// Shuffles `items` (Fisher-Yates, as libpq 16 does for `load_balance_hosts=random`), with
/// `random(n)` drawing an index below `n`.
pub(crate) fn shuffle<T>(
    items: &mut [T],
    random: &mut dyn FnMut(usize) -> Result<usize, Error>,
) -> Result<(), Error> {
    for i in (1..items.len()).rev() {
        let j = random(i + 1)?.min(i);
        items.swap(i, j);
    }
    Ok(())
}

impl Config {
    /// Applies libpq's defaults: the user defaults to the operating-system user (`$USER`, else
    /// `$LOGNAME`), the database to the user, the port to 5432, and the host to the local
    /// server's socket directory (`/var/run/postgresql`, else `/tmp`, whichever holds the
    /// socket file), else `localhost`. Ports are matched to hosts: one port for all, or exactly
    /// one per host; `hostaddr` values are paired with hosts. The TLS rules are libpq's (see
    /// `TlsSettings`). A `service` not applied yet (a parsed string that never went through
    /// [`Config::with_env_fallbacks`]) is applied first.
    ///
    /// This does not read the `PG*` variables: call [`Config::with_env_fallbacks`] first.
    pub(crate) fn resolve(&self) -> Result<Resolved, Error> {
        self.resolve_with(&|name| std::env::var(name).ok(), &|path| path.exists())
    }

    /// The core of [`Config::resolve`]: `lookup` stands in for `std::env::var` and `exists` for
    /// `Path::exists`.
    pub(crate) fn resolve_with(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
        exists: &dyn Fn(&Path) -> bool,
    ) -> Result<Resolved, Error> {
        self.resolve_with_random(lookup, exists, &mut random_below)
    }

    /// [`Config::resolve_with`] with the random source for `load_balance_hosts=random`
    /// injected.
    pub(crate) fn resolve_with_random(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
        exists: &dyn Fn(&Path) -> bool,
        random: &mut dyn FnMut(usize) -> Result<usize, Error>,
    ) -> Result<Resolved, Error> {
        if self.get_service().is_some() && !self.service_expanded {
            return self
                .clone()
                .expand_service(lookup)?
                .resolve_with_random(lookup, exists, random);
        }
        self.check_unsupported()?;
        if let Some(encoding) = &self.client_encoding {
            check_client_encoding(encoding, true).map_err(Error::config)?;
        }

        let user = match self.get_user() {
            Some(user) => user.to_owned(),
            None => ["USER", "LOGNAME"]
                .iter()
                .find_map(|name| lookup(name).filter(|v| !v.is_empty()))
                .ok_or_else(|| {
                    Error::config(
                        "no user name given, and neither USER nor LOGNAME is set to supply the \
                         default; set user= (or PGUSER)",
                    )
                })?,
        };
        let dbname = self.get_dbname().unwrap_or(&user).to_owned();
        check_no_nul("user name", &user)?;
        check_no_nul("database name", &dbname)?;

        let mut targets = self.targets(exists)?;
        if self.get_load_balance_hosts() == LoadBalanceHosts::Random {
            shuffle(&mut targets, random)?;
        }

        let tls = self.tls_settings(lookup, exists)?;
        let channel_binding = self.get_channel_binding();
        if channel_binding == ChannelBinding::Require && tls.mode == SslMode::Disable {
            return Err(Error::config(
                "channel_binding=require cannot be used with sslmode=disable: channel binding \
                 needs a TLS connection",
            ));
        }

        let protocol = VersionBounds {
            min: self.get_min_protocol_version(),
            max: self.get_max_protocol_version(),
        };
        for (key, version) in [("min", protocol.min), ("max", protocol.max)] {
            if !version.is_supported() {
                return Err(Error::config(format!(
                    "invalid {key}_protocol_version value \"{version}\": tusk speaks protocol \
                     3.0 and 3.2"
                )));
            }
        }
        // libpq 18's check and words.
        if protocol.min > protocol.max {
            return Err(Error::config(format!(
                "\"min_protocol_version\" is greater than \"max_protocol_version\" ({} > {})",
                protocol.min, protocol.max
            )));
        }

        let mut startup_params = vec![
            ("user".to_owned(), user.clone()),
            ("database".to_owned(), dbname.clone()),
        ];
        if let Some(name) = self.get_application_name() {
            startup_params.push(("application_name".to_owned(), name.to_owned()));
        }
        if let Some(options) = self.get_options() {
            startup_params.push(("options".to_owned(), options.to_owned()));
        }
        // A replication connection (physical or logical) is asked for at startup, as libpq
        // does; an ordinary one sends nothing.
        let replication = self.get_replication();
        if replication != Replication::Off {
            startup_params.push(("replication".to_owned(), replication.as_str().to_owned()));
        }
        startup_params.extend(
            DRIVER_PARAMS
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        );
        for (name, value) in &self.params {
            merge_param(&mut startup_params, name, value)?;
        }
        for (name, value) in &startup_params {
            check_no_nul(
                &format!("name of the setting \"{}\"", name.escape_debug()),
                name,
            )?;
            check_no_nul(&format!("value of the setting \"{name}\""), value)?;
        }

        Ok(Resolved {
            targets,
            user,
            dbname,
            password: self.get_password().map(<[u8]>::to_vec),
            passfile: self.get_passfile().map(Path::to_path_buf),
            startup_params,
            connect_timeout: self.get_connect_timeout(),
            statement_cache_capacity: self.statement_cache_capacity,
            max_message_len: self.max_message_len,
            tls,
            channel_binding,
            require_auth: self.get_require_auth(),
            keepalives: Keepalives {
                enabled: self.get_keepalives(),
                idle: self.get_keepalives_idle(),
                interval: self.get_keepalives_interval(),
                count: self.get_keepalives_count(),
            },
            tcp_user_timeout: self.get_tcp_user_timeout(),
            requirepeer: self.get_require_peer().map(str::to_owned),
            target_session_attrs: self.get_target_session_attrs(),
            load_balance: self.get_load_balance_hosts() == LoadBalanceHosts::Random,
            protocol,
        })
    }

    /// Refuses the settings tusk recognizes but cannot honour yet, rather than connecting in
    /// a way the user did not ask for.
    fn check_unsupported(&self) -> Result<(), Error> {
        if self.get_gss_enc_mode() == GssEncMode::Require {
            return Err(Error::config(
                "gssencmode=require cannot be satisfied: tusk has no GSSAPI support (use \
                 gssencmode=prefer or disable)",
            ));
        }
        Ok(())
    }

    /// Pairs hosts with `hostaddr` values and with ports (libpq's rules: as many addresses as
    /// hosts when both are given; one port for all targets, or one per target).
    fn targets(&self, exists: &dyn Fn(&Path) -> bool) -> Result<Vec<Target>, Error> {
        let ports = self.get_ports();
        if let Some(bad) = ports.iter().position(|&p| p == 0) {
            return Err(Error::config(format!(
                "port 0 (element {} of the port list) is not a valid port",
                bad + 1
            )));
        }
        let hosts = self.get_hosts();
        let addrs = self.get_hostaddrs();
        let pairs: Vec<(Option<&Host>, Option<IpAddr>)> = match (hosts.len(), addrs.len()) {
            (0, 0) => vec![(None, None)],
            (_, 0) => hosts.iter().map(|h| (Some(h), None)).collect(),
            (0, _) => addrs.iter().map(|a| (None, *a)).collect(),
            (h, a) if h == a => hosts.iter().map(Some).zip(addrs.iter().copied()).collect(),
            (h, a) => {
                return Err(Error::config(format!(
                    "could not match {h} host names to {a} hostaddr values: give one address \
                     per host (an empty element for a host without one)"
                )))
            }
        };
        let ports: Vec<u16> = match ports {
            [] => vec![DEFAULT_PORT; pairs.len()],
            [port] => vec![*port; pairs.len()],
            ports if ports.len() == pairs.len() => ports.to_vec(),
            ports => {
                return Err(Error::config(format!(
                    "could not match {} port numbers to {} hosts: give one port for all hosts \
                     or one per host",
                    ports.len(),
                    pairs.len()
                )))
            }
        };
        Ok(pairs
            .into_iter()
            .zip(ports)
            .map(|((host, hostaddr), port)| Target {
                host: match (host, hostaddr) {
                    (Some(host), _) => host.clone(),
                    (None, Some(addr)) => Host::Tcp(addr.to_string()),
                    (None, None) => default_host(port, exists),
                },
                hostaddr,
                port,
            })
            .collect())
    }

    /// The TLS settings with libpq's defaults and rules applied (see [`TlsSettings`]).
    fn tls_settings(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
        exists: &dyn Fn(&Path) -> bool,
    ) -> Result<TlsSettings, Error> {
        let mut mode = self.get_ssl_mode();
        let given_root = self.get_ssl_root_cert();
        if given_root == Some(RootCert::System) && mode != SslMode::VerifyFull {
            return Err(Error::config(format!(
                "weak sslmode \"{}\" may not be used with sslrootcert=system (use \
                 \"verify-full\")",
                mode.as_str()
            )));
        }
        let negotiation = self.get_ssl_negotiation();
        if negotiation == SslNegotiation::Direct
            && matches!(mode, SslMode::Disable | SslMode::Allow | SslMode::Prefer)
        {
            return Err(Error::config(format!(
                "weak sslmode \"{}\" may not be used with sslnegotiation=direct (use \
                 \"require\", \"verify-ca\", or \"verify-full\")",
                mode.as_str()
            )));
        }
        let min_version = self.get_ssl_min_protocol_version();
        let max_version = self.get_ssl_max_protocol_version();
        if let Some(max) = max_version.filter(|max| *max < min_version) {
            return Err(Error::config(format!(
                "invalid TLS protocol version range: ssl_min_protocol_version \"{min_version}\" \
                 is higher than ssl_max_protocol_version \"{max}\""
            )));
        }
        let custom = self.tls_config.clone();
        let cert_mode = self.get_ssl_cert_mode();
        let mut tls = TlsSettings {
            mode,
            root_cert: None,
            cert: None,
            key: None,
            key_password: self.get_ssl_password().map(<[u8]>::to_vec),
            crl: self.get_ssl_crl().map(Path::to_path_buf),
            crl_dir: self.get_ssl_crl_dir().map(Path::to_path_buf),
            sni: self.get_ssl_sni(),
            min_version,
            max_version,
            negotiation,
            cert_mode,
            custom,
        };
        if mode == SslMode::Disable {
            // TLS is never started: no file matters.
            return Ok(tls);
        }

        // libpq's files under ~/.postgresql/.
        let home_dir = lookup("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| Path::new(&h).join(".postgresql"));
        let file = |given: Option<&Path>, default: &str| -> Option<PathBuf> {
            match given {
                Some(path) => Some(path.to_path_buf()),
                None => home_dir.as_ref().map(|dir| dir.join(default)),
            }
        };

        // The root certificates: `system`, or a file that exists.
        let root_file = match &given_root {
            Some(RootCert::System) => None,
            Some(RootCert::File(path)) => Some(path.clone()),
            None => file(None, "root.crt"),
        };
        tls.root_cert = match (&given_root, &root_file) {
            (Some(RootCert::System), _) => Some(RootCert::System),
            (_, Some(path)) if exists(path) => Some(RootCert::File(path.clone())),
            _ => None,
        };
        if tls.custom.is_none() {
            if mode == SslMode::Require && matches!(tls.root_cert, Some(RootCert::File(_))) {
                // libpq verifies the chain whenever a root certificate file is present.
                mode = SslMode::VerifyCa;
                tls.mode = mode;
            }
            if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && tls.root_cert.is_none() {
                let what = match &root_file {
                    Some(path) => format!(
                        "root certificate file \"{}\" does not exist",
                        path.display()
                    ),
                    None => "no root certificate file: sslrootcert is not set and HOME is not \
                             set to find ~/.postgresql/root.crt"
                        .to_owned(),
                };
                return Err(Error::config(format!(
                    "{what}; sslmode={} needs trusted root certificates: provide the file, use \
                     the system's trusted roots with sslrootcert=system, or use a weaker \
                     sslmode (require does not verify the server certificate)",
                    mode.as_str()
                )));
            }
        }

        // The client certificate and key, unless sslcertmode=disable. As in libpq, a
        // certificate file that does not exist is skipped (no certificate is sent).
        if cert_mode != super::SslCertMode::Disable {
            tls.cert = file(self.get_ssl_cert(), "postgresql.crt").filter(|p| exists(p));
            if let Some(cert) = &tls.cert {
                let key = file(self.get_ssl_key(), "postgresql.key");
                match key {
                    Some(key) if exists(&key) => tls.key = Some(key),
                    key => {
                        return Err(Error::config(format!(
                            "certificate file \"{}\" is present, but not its private key file{}; \
                             set sslkey",
                            cert.display(),
                            key.map(|k| format!(" \"{}\"", k.display()))
                                .unwrap_or_default()
                        )))
                    }
                }
            }
        }
        Ok(tls)
    }
}

/// Adds a [`Config::param`] entry to the StartupMessage settings, replacing a default of
/// the same name. The settings the connection is built on cannot be changed this way.
fn merge_param(params: &mut Vec<(String, String)>, name: &str, value: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::config(
            "a server setting added with param() has an empty name",
        ));
    }
    if name.eq_ignore_ascii_case("user") || name.eq_ignore_ascii_case("database") {
        return Err(Error::config(format!(
            "set \"{name}\" with user()/dbname() (or user=/dbname=), not param()"
        )));
    }
    if name.eq_ignore_ascii_case("client_encoding") && !super::options::is_utf8_name(value) {
        return Err(Error::config(format!(
            "client_encoding {:?} is not supported: tusk exchanges text as UTF8",
            value
        )));
    }
    match params
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        Some(entry) => entry.1 = value.to_owned(),
        None => params.push((name.to_owned(), value.to_owned())),
    }
    Ok(())
}
