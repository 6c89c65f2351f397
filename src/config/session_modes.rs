//! The connection settings that are a choice among a few words and are not about TLS:
//! `target_session_attrs`, `load_balance_hosts`, `replication` and `gssencmode`, with libpq's
//! spellings.

use std::fmt;

/// libpq's `target_session_attrs`: which kind of server session is acceptable.
///
/// With several hosts, each is tried in turn (every address of each) until one satisfies
/// this; a server that does not is passed over, and the error of a failed connect lists every
/// server tried and why. PostgreSQL 14 and later report what is needed at startup
/// (`in_hot_standby`, `default_transaction_read_only`); older servers are asked with `SHOW
/// transaction_read_only` or `SELECT pg_is_in_recovery()`, as libpq does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TargetSessionAttrs {
    /// Any successful connection is acceptable (the default).
    #[default]
    Any,
    /// The session must accept read-write transactions by default.
    ReadWrite,
    /// The session must not accept read-write transactions by default.
    ReadOnly,
    /// The server must not be in hot standby mode.
    Primary,
    /// The server must be in hot standby mode.
    Standby,
    /// A standby if one is available, else any server.
    PreferStandby,
}

impl TargetSessionAttrs {
    /// The setting's spelling: `any`, `read-write`, `read-only`, `primary`, `standby` or
    /// `prefer-standby`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetSessionAttrs::Any => "any",
            TargetSessionAttrs::ReadWrite => "read-write",
            TargetSessionAttrs::ReadOnly => "read-only",
            TargetSessionAttrs::Primary => "primary",
            TargetSessionAttrs::Standby => "standby",
            TargetSessionAttrs::PreferStandby => "prefer-standby",
        }
    }

    pub(crate) fn from_setting(value: &str) -> Option<TargetSessionAttrs> {
        [
            TargetSessionAttrs::Any,
            TargetSessionAttrs::ReadWrite,
            TargetSessionAttrs::ReadOnly,
            TargetSessionAttrs::Primary,
            TargetSessionAttrs::Standby,
            TargetSessionAttrs::PreferStandby,
        ]
        .into_iter()
        .find(|v| v.as_str() == value)
    }
}

/// libpq's `load_balance_hosts` (version 16): the order in which the hosts are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LoadBalanceHosts {
    /// In the order given (the default).
    #[default]
    Disable,
    /// In a random order, drawn afresh for every connection attempt, so that many clients
    /// spread over the hosts.
    Random,
}

impl LoadBalanceHosts {
    /// The setting's spelling: `disable` or `random`.
    pub fn as_str(self) -> &'static str {
        match self {
            LoadBalanceHosts::Disable => "disable",
            LoadBalanceHosts::Random => "random",
        }
    }

    pub(crate) fn from_setting(value: &str) -> Option<LoadBalanceHosts> {
        Some(match value {
            "disable" => LoadBalanceHosts::Disable,
            "random" => LoadBalanceHosts::Random,
            _ => return None,
        })
    }
}

/// libpq's `replication`: whether the connection uses the replication protocol.
///
/// Any value but [`Replication::Off`] sends the `replication` startup parameter; such a
/// connection speaks the replication protocol and is opened with
/// [`ReplicationClient`](crate::replication::ReplicationClient).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Replication {
    /// An ordinary connection (`false`, `off`, `no`, `0`; the default).
    #[default]
    Off,
    /// A physical replication connection (`true`, `on`, `yes`, `1`).
    Physical,
    /// A logical replication connection to the database in `dbname` (`database`).
    Database,
}

impl Replication {
    /// The canonical spelling: `false`, `true` or `database`.
    pub fn as_str(self) -> &'static str {
        match self {
            Replication::Off => "false",
            Replication::Physical => "true",
            Replication::Database => "database",
        }
    }

    /// Parses libpq's spellings (the boolean words are case-insensitive, as the server's).
    pub(crate) fn from_setting(value: &str) -> Option<Replication> {
        let lower = value.to_ascii_lowercase();
        Some(match lower.as_str() {
            "true" | "on" | "yes" | "1" => Replication::Physical,
            "false" | "off" | "no" | "0" => Replication::Off,
            "database" => Replication::Database,
            _ => return None,
        })
    }
}

/// libpq's `gssencmode`: whether a GSSAPI-encrypted connection is attempted.
///
/// tusk has no GSSAPI support: [`GssEncMode::Prefer`] and [`GssEncMode::Disable`] both connect
/// without GSSAPI encryption, and [`GssEncMode::Require`] makes connecting fail with a
/// configuration error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GssEncMode {
    /// Never use GSSAPI encryption.
    Disable,
    /// Use it if possible (libpq's default; for tusk the same as `Disable`).
    #[default]
    Prefer,
    /// Require it (not possible with tusk).
    Require,
}

impl GssEncMode {
    /// The setting's spelling: `disable`, `prefer` or `require`.
    pub fn as_str(self) -> &'static str {
        match self {
            GssEncMode::Disable => "disable",
            GssEncMode::Prefer => "prefer",
            GssEncMode::Require => "require",
        }
    }

    pub(crate) fn from_setting(value: &str) -> Option<GssEncMode> {
        Some(match value {
            "disable" => GssEncMode::Disable,
            "prefer" => GssEncMode::Prefer,
            "require" => GssEncMode::Require,
            _ => return None,
        })
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

display_as_str!(
    TargetSessionAttrs,
    LoadBalanceHosts,
    Replication,
    GssEncMode
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for v in [
            TargetSessionAttrs::Any,
            TargetSessionAttrs::ReadWrite,
            TargetSessionAttrs::ReadOnly,
            TargetSessionAttrs::Primary,
            TargetSessionAttrs::Standby,
            TargetSessionAttrs::PreferStandby,
        ] {
            assert_eq!(TargetSessionAttrs::from_setting(v.as_str()), Some(v));
            assert_eq!(v.to_string(), v.as_str());
        }
        for v in [LoadBalanceHosts::Disable, LoadBalanceHosts::Random] {
            assert_eq!(LoadBalanceHosts::from_setting(v.as_str()), Some(v));
        }
        for v in [
            Replication::Off,
            Replication::Physical,
            Replication::Database,
        ] {
            assert_eq!(Replication::from_setting(v.as_str()), Some(v));
        }
        for v in [GssEncMode::Disable, GssEncMode::Prefer, GssEncMode::Require] {
            assert_eq!(GssEncMode::from_setting(v.as_str()), Some(v));
        }
        for word in ["on", "YES", "1", "True"] {
            assert_eq!(Replication::from_setting(word), Some(Replication::Physical));
        }
        for word in ["off", "No", "0", "FALSE"] {
            assert_eq!(Replication::from_setting(word), Some(Replication::Off));
        }
        assert_eq!(Replication::from_setting("logical"), None);
        assert_eq!(TargetSessionAttrs::from_setting("Any"), None);
        assert_eq!(LoadBalanceHosts::from_setting("round-robin"), None);
        assert_eq!(GssEncMode::from_setting("allow"), None);
    }
}
