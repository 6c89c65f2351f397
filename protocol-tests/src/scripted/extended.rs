//! The extended query protocol: Parse (named and unnamed statements), Describe of a
//! statement or portal, Bind (parameters decoded as `int4` in text or binary), and Execute with
//! a row limit (PortalSuspended), including failures in each phase.

use tusk::proto::server::{backend, Bind, Target};

use super::backend::Backend;
use super::replies::{put_command_complete, put_data_row, put_row_description};
use super::script::Phase;
use super::sql::{aborted, count_params, ends_transaction, eval, plan, split_statements};
use super::sql::{sql_error, Plan};
use super::INT4_OID;

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
        backend::parse_complete(&mut self.out);
    }

    pub(super) fn describe(&mut self, target: Target) {
        match target {
            Target::Statement(name) => {
                let Some(stmt) = self.statements.get(name.as_str()).cloned() else {
                    return self.error(sql_error(
                        "26000",
                        format!("prepared statement \"{name}\" does not exist"),
                    ));
                };
                let types = std::iter::repeat_n(INT4_OID, stmt.params);
                backend::parameter_description(types, &mut self.out)
                    .expect("at most 65535 parameters");
                self.describe_rows(&stmt.sql, 0);
            }
            Target::Portal(name) => {
                let Some(portal) = self.portals.get(name.as_str()) else {
                    return self.error(sql_error(
                        "34000",
                        format!("portal \"{name}\" does not exist"),
                    ));
                };
                let (sql, format) = (portal.sql.clone(), portal.format);
                self.describe_rows(&sql, format);
            }
        }
    }

    fn describe_rows(&mut self, sql: &str, format: i16) {
        match plan(sql) {
            Ok(Plan::Select(_)) => put_row_description(&mut self.out, "x", format),
            _ => backend::no_data(&mut self.out),
        }
    }

    pub(super) fn bind(&mut self, bind: &Bind) {
        let (portal, statement) = (bind.portal().to_string(), bind.statement().to_string());
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
        let supplied = usize::from(bind.param_count());
        if supplied != stmt.params {
            return self.error(sql_error(
                "08P01",
                format!(
                    "bind message supplies {supplied} parameters, but prepared statement \
                     \"{statement}\" requires {}",
                    stmt.params
                ),
            ));
        }
        if self.status == b'E' && !ends_transaction(&stmt.sql) {
            return self.error(aborted());
        }
        let mut params = Vec::new();
        for (i, value) in bind.params().enumerate() {
            // The protocol's rule: no code, one for all, or one each; anything else is invalid.
            let Some(format) = bind.param_format(i) else {
                return self.error(sql_error(
                    "08P01",
                    format!(
                        "bind message has {} parameter formats but {supplied} parameters",
                        bind.param_formats().len()
                    ),
                ));
            };
            match decode_int4(value, format) {
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
        let format = bind.result_format(0).unwrap_or(0);
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
        backend::bind_complete(&mut self.out);
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
                    put_data_row(&mut self.out, *value, portal.format);
                }
                portal.pos += sent;
                if let Some(f) = failure {
                    return self.error(sql_error(&f.code, f.message));
                }
                // Like PostgreSQL: a portal that returned as many rows as asked is suspended,
                // even when none are left (it does not look ahead).
                if max_rows > 0 && sent == max_rows as usize {
                    backend::portal_suspended(&mut self.out);
                } else {
                    put_command_complete(&mut self.out, &format!("SELECT {sent}"));
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
