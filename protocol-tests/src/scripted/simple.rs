//! The simple Query protocol (several statements separated by `;`, one ReadyForQuery at the
//! end), and running a non-SELECT command for either protocol: its transaction effect (BEGIN,
//! COMMIT, ROLLBACK, savepoints, with PostgreSQL's notices and errors) and CommandComplete.

use std::collections::VecDeque;

use super::backend::Backend;
use tusk::proto::server::backend;

use super::replies::{put_command_complete, put_data_row, put_row_description};
use super::script::Phase;
use super::sql::{aborted, ends_transaction, eval, outside_block, plan, split_statements};
use super::sql::{sql_error, Command, Plan, SqlError};

impl Backend {
    /// Runs a command: its notice, transaction effect and CommandComplete.
    pub(super) fn command(&mut self, command: Command) -> Result<(), SqlError> {
        let tag = match command {
            Command::CopyIn => {
                self.start_copy_in();
                return Ok(());
            }
            Command::CopyOut => {
                self.copy_out();
                return Ok(());
            }
            Command::Insert => "INSERT 0 1",
            Command::Set => "SET",
            Command::Begin => {
                if self.status == b'I' {
                    self.status = b'T';
                } else {
                    self.notice("25001", "there is already a transaction in progress");
                }
                "BEGIN"
            }
            Command::Commit | Command::Rollback => {
                let was = std::mem::replace(&mut self.status, b'I');
                self.savepoints.clear();
                if was == b'I' {
                    self.notice("25P01", "there is no transaction in progress");
                }
                if command == Command::Commit && was != b'E' {
                    "COMMIT"
                } else {
                    "ROLLBACK"
                }
            }
            Command::Savepoint(name) => {
                if self.status == b'I' {
                    return Err(outside_block("SAVEPOINT"));
                }
                self.savepoints.push(name);
                "SAVEPOINT"
            }
            Command::Release(name) => {
                if self.status == b'I' {
                    return Err(outside_block("RELEASE SAVEPOINT"));
                }
                let at = self.savepoint(&name)?;
                self.savepoints.truncate(at);
                "RELEASE"
            }
            Command::RollbackTo(name) => {
                if self.status == b'I' {
                    return Err(outside_block("ROLLBACK TO SAVEPOINT"));
                }
                let at = self.savepoint(&name)?;
                // The savepoint itself stays; the transaction is usable again.
                self.savepoints.truncate(at + 1);
                self.status = b'T';
                "ROLLBACK"
            }
        };
        put_command_complete(&mut self.out, tag);
        Ok(())
    }

    /// Where savepoint `name` is in the stack (the latest of that name).
    fn savepoint(&self, name: &str) -> Result<usize, SqlError> {
        self.savepoints
            .iter()
            .rposition(|s| s == name)
            .ok_or_else(|| sql_error("3B001", format!("savepoint \"{name}\" does not exist")))
    }

    /// A simple Query: its statements in turn, then ReadyForQuery (after the COPY, when one of
    /// them starts a COPY FROM STDIN).
    pub(super) fn simple_query(&mut self, sql: &str) {
        let statements = split_statements(sql);
        if statements.is_empty() {
            backend::empty_query_response(&mut self.out);
            return self.ready();
        }
        self.run_simple(statements.into_iter().map(str::to_owned).collect());
    }

    /// Runs the rest of a simple Query's statements; ends with ReadyForQuery unless one of
    /// them starts a COPY FROM STDIN, which keeps the rest for when the COPY ends.
    pub(super) fn run_simple(&mut self, mut rest: VecDeque<String>) {
        while let Some(statement) = rest.pop_front() {
            if let Err(e) = self.simple_statement(&statement) {
                self.error(e);
                break;
            }
            if let Some(copy) = &mut self.copy_in {
                copy.simple_rest = Some(rest);
                return;
            }
        }
        self.ready();
    }

    fn simple_statement(&mut self, statement: &str) -> Result<(), SqlError> {
        if self.status == b'E' && !ends_transaction(statement) {
            return Err(aborted());
        }
        let failure = [Phase::Parse, Phase::Bind, Phase::Execute]
            .into_iter()
            .find_map(|phase| self.failure(statement, phase));
        if let Some(f) = &failure {
            if f.phase != Phase::Execute {
                return Err(sql_error(&f.code, f.message.clone()));
            }
        }
        match plan(statement)? {
            Plan::Select(expr) => {
                let rows = eval(&expr, &[])?;
                put_row_description(&mut self.out, "x", 0);
                // As at Execute: the error comes with row `after_rows + 1`, if there is one.
                let failure = failure.filter(|f| f.after_rows < rows.len());
                let sent = failure.as_ref().map_or(rows.len(), |f| f.after_rows);
                for value in rows.iter().take(sent) {
                    put_data_row(&mut self.out, *value, 0);
                }
                if let Some(f) = failure {
                    return Err(sql_error(&f.code, f.message));
                }
                put_command_complete(&mut self.out, &format!("SELECT {}", rows.len()));
                Ok(())
            }
            Plan::Command(command) => {
                if let Some(f) = failure {
                    return Err(sql_error(&f.code, f.message));
                }
                self.command(command)
            }
        }
    }
}
