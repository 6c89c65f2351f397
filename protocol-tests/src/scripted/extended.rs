//! The extended query protocol: Parse (named and unnamed statements), Describe of a
//! statement or portal, Bind (parameters decoded as `int4` in text or binary), and Execute with
//! a row limit (PortalSuspended), including failures in each phase.

use super::backend::Backend;
use super::replies::{command_complete, data_row, row_description};
use super::script::Phase;
use super::sql::{aborted, count_params, ends_transaction, eval, plan, split_statements};
use super::sql::{sql_error, Plan};
use super::INT4_OID;
use crate::wire;

/// A prepared statement: its SQL and the number of parameters.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    pub(super) sql: String,
    params: usize,
}

/// A bound portal.
#[derive(Debug)]
pub(super) struct Portal {
    sql: String,
    /// `Some` for a SELECT: the rows it returns.
    rows: Option<Vec<Option<i32>>>,
    /// How many rows earlier Executes returned.
    pos: usize,
    /// The result format of the one column (0 text, 1 binary).
    format: i16,
    /// A non-SELECT that ran already.
    done: bool,
}

impl Backend {
    pub(super) fn parse(&mut self, name: String, sql: String) {
        if !name.is_empty() && self.statements.contains_key(&name) {
            return self.error(sql_error(
                "42P05",
                format!("prepared statement \"{name}\" already exists"),
            ));
        }
        if let Some(f) = self.failure(&sql, Phase::Parse) {
            return self.error(sql_error(&f.code, f.message));
        }
        if self.status == b'E' && !ends_transaction(&sql) {
            return self.error(aborted());
        }
        if split_statements(&sql).len() > 1 {
            return self.error(sql_error(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        if let Err(e) = plan(&sql) {
            return self.error(e);
        }
        let params = count_params(&sql);
        self.statements.insert(name, Prepared { sql, params });
        self.record_statements();
        self.out.extend(wire::msg(b'1', &[]));
    }

    pub(super) fn describe(&mut self, kind: u8, name: String) {
        match kind {
            b'S' => {
                let Some(stmt) = self.statements.get(&name).cloned() else {
                    return self.error(sql_error(
                        "26000",
                        format!("prepared statement \"{name}\" does not exist"),
                    ));
                };
                let mut body = (stmt.params as i16).to_be_bytes().to_vec();
                for _ in 0..stmt.params {
                    body.extend_from_slice(&INT4_OID.to_be_bytes());
                }
                self.out.extend(wire::msg(b't', &body));
                self.describe_rows(&stmt.sql, 0);
            }
            b'P' => {
                let Some(portal) = self.portals.get(&name) else {
                    return self.error(sql_error(
                        "34000",
                        format!("portal \"{name}\" does not exist"),
                    ));
                };
                let (sql, format) = (portal.sql.clone(), portal.format);
                self.describe_rows(&sql, format);
            }
            other => self.error(sql_error(
                "08P01",
                format!("invalid DESCRIBE message subtype {other}"),
            )),
        }
    }

    fn describe_rows(&mut self, sql: &str, format: i16) {
        match plan(sql) {
            Ok(Plan::Select(_)) => self.out.extend(row_description("x", format)),
            _ => self.out.extend(wire::msg(b'n', &[])),
        }
    }

    pub(super) fn bind(
        &mut self,
        portal: String,
        statement: String,
        formats: &[i16],
        values: &[Option<Vec<u8>>],
        results: &[i16],
    ) {
        let Some(stmt) = self.statements.get(&statement).cloned() else {
            return self.error(sql_error(
                "26000",
                format!("prepared statement \"{statement}\" does not exist"),
            ));
        };
        if !portal.is_empty() && self.portals.contains_key(&portal) {
            return self.error(sql_error(
                "42P03",
                format!("cursor \"{portal}\" already exists"),
            ));
        }
        if values.len() != stmt.params {
            return self.error(sql_error(
                "08P01",
                format!(
                    "bind message supplies {} parameters, but prepared statement \"{statement}\" \
                     requires {}",
                    values.len(),
                    stmt.params
                ),
            ));
        }
        if self.status == b'E' && !ends_transaction(&stmt.sql) {
            return self.error(aborted());
        }
        let mut params = Vec::new();
        for (i, value) in values.iter().enumerate() {
            let format = match formats.len() {
                0 => 0,
                1 => formats[0],
                _ => formats[i],
            };
            match decode_int4(value.as_deref(), format) {
                Ok(v) => params.push(v),
                Err(()) => {
                    return self.error(sql_error(
                        "22P03",
                        format!("incorrect binary data format in bind parameter {}", i + 1),
                    ))
                }
            }
        }
        if let Some(f) = self.failure(&stmt.sql, Phase::Bind) {
            return self.error(sql_error(&f.code, f.message));
        }
        let rows = match plan(&stmt.sql) {
            Ok(Plan::Select(expr)) => match eval(&expr, &params) {
                Ok(rows) => Some(rows),
                Err(e) => return self.error(e),
            },
            Ok(Plan::Command(_)) => None,
            Err(e) => return self.error(e),
        };
        let format = results.first().copied().unwrap_or(0);
        self.portals.insert(
            portal,
            Portal {
                sql: stmt.sql,
                rows,
                pos: 0,
                format,
                done: false,
            },
        );
        self.out.extend(wire::msg(b'2', &[]));
    }

    pub(super) fn execute(&mut self, name: String, max_rows: i32) {
        let Some(portal) = self.portals.get(&name) else {
            return self.error(sql_error(
                "34000",
                format!("portal \"{name}\" does not exist"),
            ));
        };
        let sql = portal.sql.clone();
        let failure = self.failure(&sql, Phase::Execute);
        let portal = self.portals.get_mut(&name).expect("looked up above");
        match &portal.rows {
            Some(rows) => {
                let rest = &rows[portal.pos..];
                let limit = if max_rows > 0 {
                    rest.len().min(max_rows as usize)
                } else {
                    rest.len()
                };
                // A failing statement errs when it comes to compute row `after_rows + 1`;
                // an Execute whose row limit stops it before that does not get there.
                let failure = failure.filter(|f| f.after_rows < portal.pos + limit);
                let sent = match &failure {
                    Some(f) => f.after_rows.saturating_sub(portal.pos),
                    None => limit,
                };
                for value in &rest[..sent] {
                    self.out.extend(data_row(*value, portal.format));
                }
                portal.pos += sent;
                if let Some(f) = failure {
                    return self.error(sql_error(&f.code, f.message));
                }
                // Like PostgreSQL: a portal that returned as many rows as asked is suspended,
                // even when none are left (it does not look ahead).
                if max_rows > 0 && sent == max_rows as usize {
                    self.out.extend(wire::msg(b's', &[]));
                } else {
                    self.out.extend(command_complete(&format!("SELECT {sent}")));
                }
            }
            None => {
                if let Some(f) = failure {
                    return self.error(sql_error(&f.code, f.message));
                }
                if portal.done {
                    return self.error(sql_error(
                        "55000",
                        format!("portal \"{name}\" cannot be run"),
                    ));
                }
                portal.done = true;
                let Ok(Plan::Command(command)) = plan(&sql) else {
                    unreachable!("a portal without rows is a command")
                };
                if let Err(e) = self.command(command) {
                    self.error(e);
                }
            }
        }
    }
}

fn decode_int4(value: Option<&[u8]>, format: i16) -> Result<Option<i32>, ()> {
    let Some(bytes) = value else { return Ok(None) };
    if format == 1 {
        let bytes: [u8; 4] = bytes.try_into().map_err(|_| ())?;
        Ok(Some(i32::from_be_bytes(bytes)))
    } else {
        std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .map(Some)
            .ok_or(())
    }
}
