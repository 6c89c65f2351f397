//! libpq's defaults applied to a [`Config`]: what the connection layer actually uses.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use super::{Config, Host, DEFAULT_PORT};
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

/// A [`Config`] with every default applied, as the connection layer needs it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// The servers to try, in order, each with its port.
    pub targets: Vec<(Host, u16)>,
    /// The user name to log in as.
    pub user: String,
    /// The database to connect to.
    pub dbname: String,
    /// The password given explicitly; the password file is consulted per target by
    /// [`Config::password_for`].
    pub password: Option<Vec<u8>>,
    /// The name/value pairs of the StartupMessage, `user` and `database` first.
    pub startup_params: Vec<(String, String)>,
    /// How long each target may take to connect; `None` waits indefinitely.
    pub connect_timeout: Option<Duration>,
    /// How many prepared statements to cache; 0 sends every statement unnamed.
    pub statement_cache_capacity: usize,
    /// The largest backend message accepted.
    pub max_message_len: usize,
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolved")
            .field("targets", &self.targets)
            .field("user", &self.user)
            .field("dbname", &self.dbname)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("startup_params", &self.startup_params)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_cache_capacity", &self.statement_cache_capacity)
            .field("max_message_len", &self.max_message_len)
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

impl Config {
    /// Applies libpq's defaults: the user defaults to the operating-system user (`$USER`, else
    /// `$LOGNAME`), the database to the user, the port to 5432, and the host to the local
    /// server's socket directory (`/var/run/postgresql`, else `/tmp`, whichever holds the
    /// socket file), else `localhost`. Ports are matched to hosts: one port for all, or exactly
    /// one per host.
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

        let targets = self.targets(exists)?;

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
            startup_params,
            connect_timeout: self.get_connect_timeout(),
            statement_cache_capacity: self.statement_cache_capacity,
            max_message_len: self.max_message_len,
        })
    }

    /// Pairs hosts with ports (libpq's rule: one port for all hosts, or one per host).
    fn targets(&self, exists: &dyn Fn(&Path) -> bool) -> Result<Vec<(Host, u16)>, Error> {
        let ports = self.get_ports();
        if let Some(bad) = ports.iter().position(|&p| p == 0) {
            return Err(Error::config(format!(
                "port 0 (element {} of the port list) is not a valid port",
                bad + 1
            )));
        }
        let hosts = match self.get_hosts() {
            [] => vec![default_host(
                ports.first().copied().unwrap_or(DEFAULT_PORT),
                exists,
            )],
            hosts => hosts.to_vec(),
        };
        match ports {
            [] => Ok(hosts.into_iter().map(|h| (h, DEFAULT_PORT)).collect()),
            [port] => Ok(hosts.into_iter().map(|h| (h, *port)).collect()),
            ports if ports.len() == hosts.len() => {
                Ok(hosts.into_iter().zip(ports.iter().copied()).collect())
            }
            ports => Err(Error::config(format!(
                "could not match {} port numbers to {} hosts: give one port for all hosts or \
                 one per host",
                ports.len(),
                hosts.len()
            ))),
        }
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
    if name.eq_ignore_ascii_case("client_encoding")
        && !matches!(
            value.to_ascii_uppercase().as_str(),
            "UTF8" | "UTF-8" | "UNICODE"
        )
    {
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
