//! `target_session_attrs`: what kind of server a session is on (read-write or read-only,
//! primary or hot standby), read from what the server reported at startup, and whether that
//! is what the caller asked for.
//!
//! PostgreSQL 14 and later report `in_hot_standby` and `default_transaction_read_only` in
//! ParameterStatus at startup and whenever they change (a promotion, a reload), so most checks
//! cost no round trip; for older servers the connect path asks with `SHOW
//! transaction_read_only` / `SELECT pg_is_in_recovery()`, as libpq does.

use super::Connection;
use crate::config::TargetSessionAttrs;

/// What a session knows about its server's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ServerRole {
    /// Whether the server is in hot standby (recovery); `None` when not known.
    pub in_hot_standby: Option<bool>,
    /// Whether new transactions are read-only by default (`default_transaction_read_only`,
    /// or a standby); `None` when not known.
    pub read_only: Option<bool>,
}

/// Which question must be asked of a server too old to report its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoleQuery {
    /// `SHOW transaction_read_only` answers read-write / read-only.
    ReadOnly,
    /// `SELECT pg_is_in_recovery()` answers primary / standby.
    InRecovery,
}

impl ServerRole {
    /// The role as the session's reported parameters tell it.
    pub(crate) fn reported(conn: &Connection) -> ServerRole {
        ServerRole::from_parameters(|name| conn.parameter(name))
    }

    /// The role from reported parameters, looked up by name with `parameter`.
    fn from_parameters<'a>(parameter: impl Fn(&str) -> Option<&'a str>) -> ServerRole {
        let flag = |name: &str| parameter(name).map(|v| v == "on");
        let in_hot_standby = flag("in_hot_standby");
        let default_read_only = flag("default_transaction_read_only");
        // libpq: a session is read-only when either says so; it is read-write only when both
        // are reported and neither does.
        let read_only = match (in_hot_standby, default_read_only) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        };
        ServerRole {
            in_hot_standby,
            read_only,
        }
    }

    /// Whether this role may still serve `attrs` (`false` only when it is known not to).
    fn still_satisfies(self, attrs: TargetSessionAttrs) -> bool {
        let attrs = match attrs {
            // A standby was preferred, but any server was acceptable.
            TargetSessionAttrs::PreferStandby => TargetSessionAttrs::Any,
            attrs => attrs,
        };
        self.satisfies(attrs) != Some(false)
    }

    /// Whether this role satisfies `attrs`; `None` when what `attrs` needs is not known (see
    /// [`ServerRole::query_needed`]). [`TargetSessionAttrs::PreferStandby`] is answered as
    /// `standby`: the connect path falls back to any server on its second pass.
    pub(crate) fn satisfies(self, attrs: TargetSessionAttrs) -> Option<bool> {
        match attrs {
            TargetSessionAttrs::Any => Some(true),
            TargetSessionAttrs::ReadWrite => self.read_only.map(|ro| !ro),
            TargetSessionAttrs::ReadOnly => self.read_only,
            TargetSessionAttrs::Primary => self.in_hot_standby.map(|hs| !hs),
            TargetSessionAttrs::Standby | TargetSessionAttrs::PreferStandby => self.in_hot_standby,
        }
    }

    /// The query that tells what `attrs` needs when the server did not report it.
    pub(crate) fn query_needed(self, attrs: TargetSessionAttrs) -> Option<RoleQuery> {
        if self.satisfies(attrs).is_some() {
            return None;
        }
        match attrs {
            TargetSessionAttrs::ReadWrite | TargetSessionAttrs::ReadOnly => {
                Some(RoleQuery::ReadOnly)
            }
            _ => Some(RoleQuery::InRecovery),
        }
    }

    /// Why a server was passed over for `attrs`, in libpq's words.
    pub(crate) fn mismatch(self, attrs: TargetSessionAttrs) -> &'static str {
        match attrs {
            TargetSessionAttrs::ReadWrite => "session is read-only",
            TargetSessionAttrs::ReadOnly => "session is not read-only",
            TargetSessionAttrs::Primary => "server is in hot standby mode",
            _ => "server is not in hot standby mode",
        }
    }
}

impl Connection {
    /// Whether the server is in hot standby (a replica in recovery), as it last reported
    /// (`in_hot_standby`, PostgreSQL 14 and later); `None` from an older server.
    pub fn in_hot_standby(&self) -> Option<bool> {
        ServerRole::reported(self).in_hot_standby
    }

    /// Whether this session still satisfies `attrs` as far as the server's reports tell
    /// (`false` only when it is known not to: a promoted standby, a primary made read-only).
    /// What a pool checks before handing out a connection.
    pub(crate) fn still_satisfies(&self, attrs: TargetSessionAttrs) -> bool {
        ServerRole::reported(self).still_satisfies(attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(hs: Option<bool>, ro: Option<bool>) -> ServerRole {
        ServerRole {
            in_hot_standby: hs,
            read_only: ro,
        }
    }

    #[test]
    fn satisfies_follows_libpq() {
        use TargetSessionAttrs::*;
        let primary = role(Some(false), Some(false));
        let standby = role(Some(true), Some(true));
        let ro_primary = role(Some(false), Some(true));
        for (r, attrs, want) in [
            (primary, Any, true),
            (primary, ReadWrite, true),
            (primary, ReadOnly, false),
            (primary, Primary, true),
            (primary, Standby, false),
            (primary, PreferStandby, false),
            (standby, ReadWrite, false),
            (standby, ReadOnly, true),
            (standby, Primary, false),
            (standby, Standby, true),
            (standby, PreferStandby, true),
            (ro_primary, ReadWrite, false),
            (ro_primary, ReadOnly, true),
            (ro_primary, Primary, true),
            (ro_primary, Standby, false),
        ] {
            assert_eq!(r.satisfies(attrs), Some(want), "{r:?} {attrs}");
            assert_eq!(r.query_needed(attrs), None);
        }
    }

    #[test]
    fn unknown_roles_ask_the_right_question() {
        use TargetSessionAttrs::*;
        let unknown = ServerRole::default();
        assert_eq!(unknown.satisfies(Any), Some(true));
        assert_eq!(unknown.query_needed(Any), None);
        assert_eq!(unknown.query_needed(ReadWrite), Some(RoleQuery::ReadOnly));
        assert_eq!(unknown.query_needed(ReadOnly), Some(RoleQuery::ReadOnly));
        assert_eq!(unknown.query_needed(Primary), Some(RoleQuery::InRecovery));
        assert_eq!(unknown.query_needed(Standby), Some(RoleQuery::InRecovery));
        assert_eq!(
            unknown.query_needed(PreferStandby),
            Some(RoleQuery::InRecovery)
        );
        // Only one of the two reported: read-only is known when it says so.
        assert_eq!(role(None, Some(true)).satisfies(ReadWrite), Some(false));
    }

    #[test]
    fn reported_parameters_give_the_role() {
        let role = |params: &[(&str, &str)]| {
            let params = params.to_vec();
            ServerRole::from_parameters(move |name| {
                params.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
            })
        };
        let hs = "in_hot_standby";
        let ro = "default_transaction_read_only";
        assert_eq!(role(&[]), ServerRole::default());
        assert_eq!(
            role(&[(hs, "off"), (ro, "off")]),
            role_of(Some(false), Some(false))
        );
        assert_eq!(
            role(&[(hs, "on"), (ro, "off")]),
            role_of(Some(true), Some(true))
        );
        assert_eq!(
            role(&[(hs, "off"), (ro, "on")]),
            role_of(Some(false), Some(true))
        );
        // Only one reported: read-only is known only when it says so.
        assert_eq!(role(&[(hs, "off")]), role_of(Some(false), None));
        assert_eq!(role(&[(ro, "on")]), role_of(None, Some(true)));
        assert_eq!(role(&[(ro, "off")]), role_of(None, None));
    }

    fn role_of(hs: Option<bool>, ro: Option<bool>) -> ServerRole {
        role(hs, ro)
    }

    #[test]
    fn still_satisfies_is_false_only_when_known_wrong() {
        use TargetSessionAttrs::*;
        let primary = role(Some(false), Some(false));
        let standby = role(Some(true), Some(true));
        let unknown = ServerRole::default();
        assert!(primary.still_satisfies(ReadWrite));
        assert!(!standby.still_satisfies(ReadWrite));
        assert!(!primary.still_satisfies(Standby));
        // prefer-standby accepted any server.
        assert!(primary.still_satisfies(PreferStandby));
        assert!(unknown.still_satisfies(ReadWrite));
        assert!(unknown.still_satisfies(Primary));
    }

    #[test]
    fn mismatch_reasons() {
        let r = ServerRole::default();
        assert_eq!(
            r.mismatch(TargetSessionAttrs::ReadWrite),
            "session is read-only"
        );
        assert_eq!(
            r.mismatch(TargetSessionAttrs::ReadOnly),
            "session is not read-only"
        );
        assert_eq!(
            r.mismatch(TargetSessionAttrs::Primary),
            "server is in hot standby mode"
        );
        assert_eq!(
            r.mismatch(TargetSessionAttrs::Standby),
            "server is not in hot standby mode"
        );
    }
}
