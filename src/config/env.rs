//! The `PG*` environment variables, as libpq reads them: each fills its setting only when the
//! setting was not given at all, neither in the connection string nor in the service file (a
//! setting given as an empty string keeps the variable out). An empty variable counts as unset.

use super::Config;
use crate::Error;

/// Each variable and the key it stands for.
pub(super) const VARIABLES: [(&str, &str); 35] = [
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGSERVICE", "service"),
    ("PGOPTIONS", "options"),
    ("PGAPPNAME", "application_name"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLNEGOTIATION", "sslnegotiation"),
    ("PGSSLCOMPRESSION", "sslcompression"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGSSLCERTMODE", "sslcertmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCRL", "sslcrl"),
    ("PGSSLCRLDIR", "sslcrldir"),
    ("PGSSLSNI", "sslsni"),
    ("PGREQUIREPEER", "requirepeer"),
    ("PGSSLMINPROTOCOLVERSION", "ssl_min_protocol_version"),
    ("PGSSLMAXPROTOCOLVERSION", "ssl_max_protocol_version"),
    ("PGMINPROTOCOLVERSION", "min_protocol_version"),
    ("PGMAXPROTOCOLVERSION", "max_protocol_version"),
    ("PGGSSENCMODE", "gssencmode"),
    ("PGKRBSRVNAME", "krbsrvname"),
    ("PGGSSLIB", "gsslib"),
    ("PGGSSDELEGATION", "gssdelegation"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGREQUIREAUTH", "require_auth"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGCLIENTENCODING", "client_encoding"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGLOADBALANCEHOSTS", "load_balance_hosts"),
];

/// libpq's environment-only settings, sent to the server as startup parameters: each
/// variable and the server setting it stands for. (`PGDATESTYLE` is deliberately missing:
/// tusk's decoders need `DateStyle=ISO`.)
const SERVER_SETTINGS: [(&str, &str); 2] = [("PGTZ", "timezone"), ("PGGEQO", "geqo")];

impl Config {
    /// Settings from the connection service file (when `PGSERVICE` names a section) and the
    /// `PG*` environment variables; the same as `Config::new().with_env_fallbacks()`.
    ///
    /// ```
    /// let config = tusk::config::Config::from_env()?;
    /// # Ok::<(), tusk::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A variable whose value is invalid (`PGPORT=abc`), named in the message; a service that
    /// is not defined, or an error in the service file (named with the line).
    pub fn from_env() -> Result<Config, Error> {
        Config::new().with_env_fallbacks()
    }

    /// Fills every setting that is still unset, as libpq does for every connection string:
    /// first from the connection service file, then from the environment variables. Explicit
    /// settings win over both, and the service file wins over the environment.
    ///
    /// The service is the one named by `service` (or, when none is given, by `PGSERVICE`); its
    /// section is read from `PGSERVICEFILE` (else `~/.pg_service.conf`), else from
    /// `$PGSYSCONFDIR/pg_service.conf` (`PGSYSCONFDIR` defaults to `/etc/postgresql-common`).
    ///
    /// The variables, libpq's names: `PGHOST`, `PGHOSTADDR`, `PGPORT`, `PGDATABASE`, `PGUSER`,
    /// `PGPASSWORD`, `PGPASSFILE`, `PGSERVICE`, `PGOPTIONS`, `PGAPPNAME`, `PGSSLMODE`,
    /// `PGSSLNEGOTIATION`, `PGSSLCOMPRESSION`, `PGSSLCERT`, `PGSSLKEY`, `PGSSLCERTMODE`,
    /// `PGSSLROOTCERT`, `PGSSLCRL`, `PGSSLCRLDIR`, `PGSSLSNI`, `PGREQUIREPEER`,
    /// `PGSSLMINPROTOCOLVERSION`, `PGSSLMAXPROTOCOLVERSION`, `PGMINPROTOCOLVERSION`,
    /// `PGMAXPROTOCOLVERSION`, `PGGSSENCMODE`, `PGKRBSRVNAME`,
    /// `PGGSSLIB`, `PGGSSDELEGATION`, `PGCHANNELBINDING`, `PGREQUIREAUTH`, `PGCONNECT_TIMEOUT`,
    /// `PGCLIENTENCODING`, `PGTARGETSESSIONATTRS`, `PGLOADBALANCEHOSTS` (and `PGSERVICEFILE`,
    /// `PGSYSCONFDIR` for the service file). Also, as in libpq, `PGTZ` and `PGGEQO` become the
    /// server settings `timezone` and `geqo` unless [`Config::param`] or `options` sets them,
    /// or their value is `default`. `PGDATESTYLE` is ignored: tusk's decoders need
    /// `DateStyle=ISO`. The password file itself is read when connecting.
    ///
    /// ```
    /// use tusk::config::Config;
    /// // dbname from the string; host, user, password, ... from PGHOST, PGUSER, ...
    /// let config = "dbname=shop".parse::<Config>()?.with_env_fallbacks()?;
    /// # Ok::<(), tusk::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A variable whose value is invalid, named in the message; a service that is not
    /// defined, or an error in the service file (named with the line).
    pub fn with_env_fallbacks(self) -> Result<Config, Error> {
        self.fill_from(|name| std::env::var(name).ok())
    }

    /// The core of [`Config::with_env_fallbacks`]: `lookup` stands in for `std::env::var`.
    pub(crate) fn fill_from(
        self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, Error> {
        let mut config = self.expand_service(&lookup)?;
        for (variable, key) in VARIABLES {
            if config.is_given(key) {
                continue;
            }
            let Some(value) = lookup(variable).filter(|v| !v.is_empty()) else {
                continue;
            };
            // `reveal` is only false for text that may hold a password; PGPASSWORD never fails.
            config
                .set_option(key, value.as_bytes(), true)
                .map_err(|msg| {
                    Error::config(format!("{msg} (from environment variable {variable})"))
                })?;
        }
        for (variable, setting) in SERVER_SETTINGS {
            let Some(value) = lookup(variable).filter(|v| !v.is_empty()) else {
                continue;
            };
            if value.eq_ignore_ascii_case("default") || config.sets_server_setting(setting) {
                continue;
            }
            config.params.push((setting.to_owned(), value));
        }
        Ok(config)
    }

    /// Whether `param()` or `-c name=...` / `--name=...` in `options` already sets the server
    /// setting `name`.
    fn sets_server_setting(&self, name: &str) -> bool {
        if self
            .params
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            return true;
        }
        let options = self.get_options().unwrap_or("").to_ascii_lowercase();
        options.contains(&format!("{name}="))
    }
}
