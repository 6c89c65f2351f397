//! Choosing a server among several, with libpq's rules: each host in turn (shuffled with
//! `load_balance_hosts=random`), every address a host name resolves to, `connect_timeout`
//! per address, and `target_session_attrs` checked on each session before it is accepted.
//!
//! What moves on to the next address or host, as libpq does:
//! - a network failure or a timeout: the next address of the same host, then the next host;
//! - the server answering "the database system is starting up" (57P03) or a session of the
//!   wrong role (a standby when read-write is wanted): the next host;
//! - any other server refusal (a bad password, a missing database) ends the connect at once:
//!   the other hosts would give the same answer.
//!
//! When every server fails, the error lists each one tried and why it was passed over.

use std::net::IpAddr;
use std::sync::Arc;

use super::negotiate::describe_target;
use super::routing::{RoleQuery, ServerRole};
use super::Connection;
use crate::client::simple::SimpleQueryMessage;
use crate::config::{
    random_below, shuffle, Config, Host, Resolved, SslMode, Target, TargetSessionAttrs,
};
use crate::error::{Error, Kind};
use crate::tls::TlsConnector;
use crate::trace;
use crate::SqlState;

/// What one host's attempts came to.
enum HostOutcome {
    /// A session satisfying the target.
    Connected(Box<Connection>),
    /// Passed over (each reason recorded): try the next host.
    Next,
    /// The server refused us in a way no other host would change.
    Stop(Error),
}

impl Connection {
    /// Connects with `config`: the hosts in turn until one gives a session that satisfies
    /// `target_session_attrs` (see the module docs).
    pub(crate) async fn connect_with(config: &Config) -> Result<Connection, Error> {
        trace::traced!(trace::connect(config), {
            // Shared by every attempt and kept by the connection's cancel target.
            let resolved = Arc::new(config.resolve()?);
            let connector = if needs_tls(&resolved) {
                Some(TlsConnector::new(&resolved.tls)?)
            } else {
                None
            };
            // prefer-standby: a standby if any host is one, else any server (a second pass).
            let single = [resolved.target_session_attrs];
            let passes: &[TargetSessionAttrs] = match resolved.target_session_attrs {
                TargetSessionAttrs::PreferStandby => {
                    &[TargetSessionAttrs::Standby, TargetSessionAttrs::Any]
                }
                _ => &single,
            };
            let mut failures: Vec<(String, Error)> = Vec::new();
            for &want in passes {
                for target in &resolved.targets {
                    let host = HostAttempt {
                        config,
                        resolved: &resolved,
                        connector: connector.as_ref(),
                        want,
                    };
                    match host.run(target, &mut failures).await {
                        HostOutcome::Connected(conn) => return Ok(*conn),
                        HostOutcome::Next => {}
                        HostOutcome::Stop(e) => return Err(e),
                    }
                }
            }
            Err(match failures.len() {
                0 => Error::config("no host to connect to"),
                // One server: its own error, as before there were several.
                1 => failures.pop().map(|(_, e)| e).unwrap_or_else(Error::closed),
                _ => Error::connect_attempts(failures),
            })
        })
    }
}

/// The attempts on one configured host.
struct HostAttempt<'a> {
    config: &'a Config,
    resolved: &'a Arc<Resolved>,
    connector: Option<&'a TlsConnector>,
    want: TargetSessionAttrs,
}

impl HostAttempt<'_> {
    async fn run(&self, target: &Target, failures: &mut Vec<(String, Error)>) -> HostOutcome {
        let addresses = match self.addresses(target).await {
            Ok(addresses) => addresses,
            Err(e) => {
                failures.push((describe_target(target), e));
                return HostOutcome::Next;
            }
        };
        for address in addresses {
            let described = describe_target(&address);
            let attempt = async {
                let conn = Connection::connect_target(
                    self.config,
                    self.resolved,
                    &address,
                    self.connector,
                )
                .await?;
                check_role(conn, self.want).await
            };
            let result = match self.resolved.connect_timeout {
                Some(limit) => match tokio::time::timeout(limit, attempt).await {
                    Ok(result) => result,
                    Err(_) => Err(Error::timeout(format!(
                        "could not connect to {described} within {limit:?}"
                    ))),
                },
                None => attempt.await,
            };
            match result {
                Ok(conn) => return HostOutcome::Connected(Box::new(conn)),
                Err(e) if e.kind() == Kind::ServerRole || is_starting_up(&e) => {
                    // libpq moves to the next host here, not the next address: the server
                    // answered, and its other addresses reach the same server.
                    failures.push((described, e));
                    return HostOutcome::Next;
                }
                Err(e) if e.kind() == Kind::Db => return HostOutcome::Stop(e),
                Err(e) => failures.push((described, e)),
            }
        }
        HostOutcome::Next
    }

    /// The addresses to dial for `target`: itself when it has `hostaddr`, is an IP address or
    /// a socket directory; else every address its name resolves to (shuffled with
    /// `load_balance_hosts=random`), each as a target with that `hostaddr`, so TLS and the
    /// password file still see the name. The lookup is bounded by `connect_timeout`.
    async fn addresses(&self, target: &Target) -> Result<Vec<Target>, Error> {
        let name = match &target.host {
            Host::Tcp(name) if target.hostaddr.is_none() => name,
            _ => return Ok(vec![target.clone()]),
        };
        if let Ok(ip) = name.parse::<IpAddr>() {
            let mut target = target.clone();
            target.hostaddr = Some(ip);
            return Ok(vec![target]);
        }
        let lookup = tokio::net::lookup_host((name.as_str(), target.port));
        let found = match self.resolved.connect_timeout {
            Some(limit) => tokio::time::timeout(limit, lookup).await.map_err(|_| {
                Error::timeout(format!("could not resolve {name:?} within {limit:?}"))
            })?,
            None => lookup.await,
        }
        .map_err(|e| Error::io(e).with_message(format!("could not resolve host name {name:?}")))?;
        let ips: Vec<IpAddr> = found.map(|address| address.ip()).collect();
        let random: Option<&mut dyn FnMut(usize) -> Result<usize, Error>> =
            match self.resolved.load_balance {
                true => Some(&mut random_below),
                false => None,
            };
        expand(target, ips, random)
    }
}

/// One target per distinct address, in the resolver's order or shuffled with `random`.
fn expand(
    target: &Target,
    mut ips: Vec<IpAddr>,
    random: Option<&mut dyn FnMut(usize) -> Result<usize, Error>>,
) -> Result<Vec<Target>, Error> {
    // The resolver lists an address once per socket type on some systems.
    let mut seen = Vec::with_capacity(ips.len());
    ips.retain(|ip| {
        let first = !seen.contains(ip);
        seen.push(*ip);
        first
    });
    if let Some(random) = random {
        shuffle(&mut ips, random)?;
    }
    Ok(ips
        .into_iter()
        .map(|ip| Target {
            hostaddr: Some(ip),
            ..target.clone()
        })
        .collect())
}

/// Whether the server refused the session because it is not ready yet (a standby still
/// recovering, a server starting or shutting down: SQLSTATE 57P03).
fn is_starting_up(error: &Error) -> bool {
    error.code() == Some(&SqlState::CANNOT_CONNECT_NOW)
}

/// Keeps `conn` when its server satisfies `want`, asking the server when it did not report
/// what is needed (before PostgreSQL 14); otherwise ends the session politely and says why.
async fn check_role(mut conn: Connection, want: TargetSessionAttrs) -> Result<Connection, Error> {
    let mut role = ServerRole::reported(&conn);
    if let Some(query) = role.query_needed(want) {
        let sql = match query {
            RoleQuery::ReadOnly => "SHOW transaction_read_only",
            RoleQuery::InRecovery => "SELECT pg_catalog.pg_is_in_recovery()",
        };
        let answer = first_value(&mut conn, sql).await?;
        let on = matches!(answer.as_str(), "on" | "t");
        match query {
            RoleQuery::ReadOnly => role.read_only = Some(on),
            RoleQuery::InRecovery => role.in_hot_standby = Some(on),
        }
    }
    // `query_needed` returned None, or the answer above filled in what `want` needs.
    if role.satisfies(want) == Some(false) {
        let reason = role.mismatch(want);
        let _ = conn.close().await;
        return Err(Error::server_role(reason));
    }
    Ok(conn)
}

/// The first column of the first row `sql` returns, as text.
async fn first_value(conn: &mut Connection, sql: &str) -> Result<String, Error> {
    for message in conn.simple_query(sql).await? {
        if let SimpleQueryMessage::Row(row) = message {
            if let Some(value) = row.get(0) {
                return Ok(value.to_owned());
            }
        }
    }
    Err(Error::server_role(format!(
        "{sql} returned no value: the server's role cannot be told"
    )))
}

/// Whether any attempt may use TLS, so that a connector must be built.
fn needs_tls(resolved: &Resolved) -> bool {
    resolved.tls.mode != SslMode::Disable
        && resolved
            .targets
            .iter()
            .any(|t| matches!(t.host, Host::Tcp(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_distinct_address_becomes_a_target_keeping_the_name() {
        let target = Target {
            host: Host::Tcp("db.example".into()),
            hostaddr: None,
            port: 5433,
        };
        let ips: Vec<IpAddr> = ["::1", "127.0.0.1", "::1", "10.0.0.7"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let expanded = expand(&target, ips.clone(), None).unwrap();
        let dialled: Vec<IpAddr> = expanded.iter().filter_map(|t| t.hostaddr).collect();
        assert_eq!(dialled, vec![ips[0], ips[1], ips[3]]);
        assert!(expanded
            .iter()
            .all(|t| t.host == target.host && t.port == 5433));
        // Shuffled with load balancing: always drawing 0 rotates the list.
        let mut zero = |_: usize| Ok(0);
        let shuffled = expand(&target, ips, Some(&mut zero)).unwrap();
        let dialled: Vec<String> = shuffled
            .iter()
            .filter_map(|t| t.hostaddr.map(|ip| ip.to_string()))
            .collect();
        assert_eq!(dialled, ["127.0.0.1", "10.0.0.7", "::1"]);
    }
}
