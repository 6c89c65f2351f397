//! The `PG*` environment variables, as libpq reads them: each fills its setting only when the
//! setting was not given at all (a setting given as an empty string keeps the variable out).
//! An empty variable counts as unset.

use super::Config;
use crate::Error;

/// Each variable and the key it stands for, in the order they are applied. `PGHOSTADDR` comes
/// before `PGHOST` so that, with both set, the address wins (it is what libpq connects to).
const VARIABLES: [(&str, &str); 11] = [
    ("PGHOSTADDR", "hostaddr"),
    ("PGHOST", "host"),
    ("PGPORT", "port"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGDATABASE", "dbname"),
    ("PGAPPNAME", "application_name"),
    ("PGOPTIONS", "options"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGSSLMODE", "sslmode"),
    ("PGPASSFILE", "passfile"),
];

impl Config {
    /// Settings from the `PG*` environment variables: `PGHOST`, `PGHOSTADDR`, `PGPORT`,
    /// `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGAPPNAME`, `PGOPTIONS`, `PGCONNECT_TIMEOUT`,
    /// `PGSSLMODE` and `PGPASSFILE`. The password file itself is read when connecting.
    ///
    /// ```
    /// let config = tusk::config::Config::from_env()?;
    /// # Ok::<(), tusk::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A variable whose value is invalid (`PGPORT=abc`), named in the message.
    pub fn from_env() -> Result<Config, Error> {
        Config::new().with_env_fallbacks()
    }

    /// Fills every setting that is still unset from the `PG*` environment variables, as libpq
    /// does for every connection string: explicit settings win.
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
    /// A variable whose value is invalid, named in the message.
    pub fn with_env_fallbacks(self) -> Result<Config, Error> {
        self.fill_from(|name| std::env::var(name).ok())
    }

    /// The core of [`Config::with_env_fallbacks`]: `lookup` stands in for `std::env::var`.
    pub(crate) fn fill_from(
        mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, Error> {
        for (variable, key) in VARIABLES {
            if self.is_given(key) {
                continue;
            }
            let Some(value) = lookup(variable).filter(|v| !v.is_empty()) else {
                continue;
            };
            // `reveal` is only false for text that may hold a password; PGPASSWORD never fails.
            self.set_option(key, value.as_bytes(), true)
                .map_err(|msg| {
                    Error::config(format!("{msg} (from environment variable {variable})"))
                })?;
        }
        Ok(self)
    }

    /// Whether the setting behind `key` was given (possibly as an empty string).
    fn is_given(&self, key: &str) -> bool {
        match key {
            "host" | "hostaddr" => self.hosts.is_some(),
            "port" => self.ports.is_some(),
            "user" => self.user.is_some(),
            "password" => self.password.is_some(),
            "dbname" => self.dbname.is_some(),
            "application_name" => self.application_name.is_some(),
            "options" => self.options.is_some(),
            "connect_timeout" => self.connect_timeout.is_some(),
            "sslmode" => self.ssl_mode.is_some(),
            "passfile" => self.passfile.is_some(),
            // Only keys from `VARIABLES` are asked about.
            _ => true,
        }
    }
}
