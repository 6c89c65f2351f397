//! [`Requests`]: the only way a running session writes a request. Each method encodes one
//! frontend message into the output buffer and records the replies it calls for, so what is
//! owed can never drift from what was written (a message that fails to encode writes nothing
//! and owes nothing).

use bytes::BytesMut;

use super::{CopyPolicy, Exchange, QueryPhase, Step};
use crate::proto::frontend::{self, BindError};
use crate::proto::{IsNull, ProtoError};

/// Writes requests into an output buffer and records what each is owed in an [`Exchange`].
/// Obtained from [`Session::requests`](crate::proto::session::Session::requests).
#[derive(Debug)]
pub struct Requests<'a> {
    pub(super) exchange: &'a mut Exchange,
    pub(super) out: &'a mut BytesMut,
}

impl<'a> Requests<'a> {
    /// Pairs an exchange with the buffer its requests are written to.
    pub fn new(exchange: &'a mut Exchange, out: &'a mut BytesMut) -> Requests<'a> {
        Requests { exchange, out }
    }

    /// The output buffer, for what owes nothing (e.g. COPY data built in place).
    pub fn out(&mut self) -> &mut BytesMut {
        self.out
    }

    /// A simple Query: one or more statements, then ReadyForQuery.
    ///
    /// A group left open (extended-protocol messages without their Sync, e.g. by a dropped
    /// future) is closed with Sync first: inside an open group that fails, the server would
    /// skip the Query along with the rest of the group, and its ReadyForQuery would never come.
    pub fn query(&mut self, sql: &str, copy: CopyPolicy) -> Result<(), ProtoError> {
        let start = self.out.len();
        let close_group = self.exchange.group_open();
        if close_group {
            frontend::sync(self.out);
        }
        if let Err(e) = frontend::query(sql, self.out) {
            // Neither the Sync nor the Query: a request that fails writes nothing.
            self.out.truncate(start);
            return Err(e);
        }
        if close_group {
            self.exchange.push(Step::Ready);
        }
        self.exchange.push(Step::Query {
            copy_policy: copy,
            phase: QueryPhase::Between,
        });
        Ok(())
    }

    /// Parse: prepares `sql` as statement `name` (`""` is the unnamed statement).
    pub fn parse(&mut self, name: &str, sql: &str, types: &[u32]) -> Result<(), ProtoError> {
        frontend::parse(name, sql, types.iter().copied(), self.out)?;
        self.exchange.push(Step::ParseComplete);
        Ok(())
    }

    /// Describe of a statement: its parameter types, then its columns (or NoData).
    pub fn describe_statement(&mut self, name: &str) -> Result<(), ProtoError> {
        frontend::describe_statement(name, self.out)?;
        self.exchange.push(Step::ParameterDescription);
        self.exchange.push(Step::RowDescription);
        Ok(())
    }

    /// Describe of a portal: its columns (or NoData).
    pub fn describe_portal(&mut self, name: &str) -> Result<(), ProtoError> {
        frontend::describe_portal(name, self.out)?;
        self.exchange.push(Step::RowDescription);
        Ok(())
    }

    /// Bind, with each parameter encoded by `encode` (see [`frontend::bind`]).
    #[allow(clippy::too_many_arguments)]
    pub fn bind<P, I, F, E>(
        &mut self,
        portal: &str,
        statement: &str,
        param_formats: &[i16],
        params: I,
        encode: F,
        result_formats: &[i16],
    ) -> Result<(), BindError<E>>
    where
        I: IntoIterator<Item = P>,
        I::IntoIter: ExactSizeIterator,
        F: FnMut(P, &mut BytesMut) -> Result<IsNull, E>,
    {
        frontend::bind(
            portal,
            statement,
            param_formats,
            params,
            encode,
            result_formats,
            self.out,
        )?;
        self.exchange.push(Step::BindComplete);
        Ok(())
    }

    /// Bind with a parameter section already encoded by
    /// [`frontend::bind_parameter_section`].
    #[inline]
    pub fn bind_with_parameter_section(
        &mut self,
        portal: &str,
        statement: &str,
        parameter_section: &[u8],
        result_formats: &[i16],
    ) -> Result<(), ProtoError> {
        frontend::bind_with_parameter_section(
            portal,
            statement,
            parameter_section,
            result_formats,
            self.out,
        )?;
        self.exchange.push(Step::BindComplete);
        Ok(())
    }

    /// One self-contained Sync group that runs `sql` on the unnamed statement and portal:
    /// Parse (with `param_types`, the OIDs `parameter_section` was encoded for), Bind (the
    /// section, see [`frontend::bind_parameter_section`], and `result_formats`), Describe of
    /// the portal (whose RowDescription gives the columns the rows come in), Execute of all
    /// rows, Sync.
    ///
    /// Nothing in it refers to anything an earlier group left on the server, so any server
    /// session may run it: what a transaction-pooling proxy (pgbouncer in transaction mode)
    /// needs. All five messages are written, or none (the buffer is rolled back and nothing is
    /// owed).
    pub fn run_unnamed(
        &mut self,
        sql: &str,
        param_types: &[u32],
        parameter_section: &[u8],
        result_formats: &[i16],
    ) -> Result<(), ProtoError> {
        self.whole_group(
            |out| {
                frontend::parse("", sql, param_types.iter().copied(), out)?;
                frontend::bind_with_parameter_section(
                    "",
                    "",
                    parameter_section,
                    result_formats,
                    out,
                )?;
                frontend::describe_portal("", out)?;
                frontend::execute("", 0, out)
            },
            &[
                Step::ParseComplete,
                Step::BindComplete,
                Step::RowDescription,
                Step::Execute { copy: None },
                Step::Ready,
            ],
        )
    }

    /// One self-contained Sync group that describes `sql` without naming it: Parse of the
    /// unnamed statement (with `param_types`; 0 or none leaves a type to the server), Describe
    /// of it, Sync. Like [`Requests::run_unnamed`], any server session may answer it, and it
    /// is written whole or not at all.
    pub fn describe_unnamed(&mut self, sql: &str, param_types: &[u32]) -> Result<(), ProtoError> {
        self.whole_group(
            |out| {
                frontend::parse("", sql, param_types.iter().copied(), out)?;
                frontend::describe_statement("", out)
            },
            &[
                Step::ParseComplete,
                Step::ParameterDescription,
                Step::RowDescription,
                Step::Ready,
            ],
        )
    }

    /// Writes the messages of a self-contained group with `write`, then Sync, and records
    /// `steps` (the Sync's `Ready` last): all of it, or on an encoding error nothing (the
    /// buffer rolled back, nothing owed).
    fn whole_group(
        &mut self,
        write: impl FnOnce(&mut BytesMut) -> Result<(), ProtoError>,
        steps: &[Step],
    ) -> Result<(), ProtoError> {
        let start = self.out.len();
        if let Err(e) = write(self.out) {
            self.out.truncate(start);
            return Err(e);
        }
        frontend::sync(self.out);
        // Recorded only once everything is written, so a failure above owes nothing.
        for &step in steps {
            self.exchange.push(step);
        }
        Ok(())
    }

    /// Execute of a portal, up to `max_rows` rows (0: all).
    #[inline]
    pub fn execute(&mut self, portal: &str, max_rows: i32) -> Result<(), ProtoError> {
        frontend::execute(portal, max_rows, self.out)?;
        self.exchange.push(Step::Execute { copy: None });
        Ok(())
    }

    /// Close of a prepared statement.
    pub fn close_statement(&mut self, name: &str) -> Result<(), ProtoError> {
        frontend::close_statement(name, self.out)?;
        self.exchange.push(Step::CloseComplete);
        Ok(())
    }

    /// Close of a portal.
    pub fn close_portal(&mut self, name: &str) -> Result<(), ProtoError> {
        frontend::close_portal(name, self.out)?;
        self.exchange.push(Step::CloseComplete);
        Ok(())
    }

    /// Sync: ends the group; ReadyForQuery is owed.
    #[inline]
    pub fn sync(&mut self) {
        frontend::sync(self.out);
        self.exchange.push(Step::Ready);
    }

    /// Sync only when extended-protocol messages were written since the last one (a group
    /// left open by an interrupted call).
    pub fn sync_if_open(&mut self) {
        if self.exchange.group_open() {
            self.sync();
        }
    }

    /// Flush: asks the server to send what it has without ending the group. Owes nothing.
    #[inline]
    pub fn flush(&mut self) {
        frontend::flush(self.out);
    }

    /// CopyData for the COPY FROM STDIN in progress.
    pub fn copy_data(&mut self, data: &[u8]) -> Result<(), ProtoError> {
        self.check_copy_in("CopyData")?;
        frontend::copy_data(data, self.out)
    }

    /// The header of a CopyData of `len` bytes, whose bytes the caller appends to
    /// [`Requests::out`] next.
    pub fn copy_data_header(&mut self, len: usize) -> Result<(), ProtoError> {
        self.check_copy_in("CopyData")?;
        frontend::copy_data_header(len, self.out)
    }

    /// CopyDone: the data is complete; the server's CommandComplete (or error) follows.
    pub fn copy_done(&mut self) -> Result<(), ProtoError> {
        self.check_copy_in("CopyDone")?;
        frontend::copy_done(self.out);
        self.exchange.copy_in_ended();
        Ok(())
    }

    /// CopyFail: abandons the COPY FROM STDIN in progress; the server answers with an error.
    /// Harmless when the COPY already ended (the server ignores it outside COPY).
    pub fn copy_fail(&mut self, reason: &str) -> Result<(), ProtoError> {
        frontend::copy_fail(reason, self.out)?;
        self.exchange.copy_in_ended();
        Ok(())
    }

    /// A simple Query that starts replication (START_REPLICATION): its CopyBothResponse opens
    /// the CopyBoth sub-protocol ([`CopyPolicy::Both`]); written like [`Requests::query`].
    pub fn start_replication(&mut self, sql: &str) -> Result<(), ProtoError> {
        self.query(sql, CopyPolicy::Both)
    }

    /// The output buffer for one or more whole CopyData frames of the CopyBoth in progress
    /// (a standby status update built by
    /// [`standby_status_update`](crate::proto::replication::standby_status_update)); refused
    /// unless the client's side of a CopyBoth is open.
    pub fn copy_both_out(&mut self) -> Result<&mut BytesMut, ProtoError> {
        self.check_copy_both("CopyData")?;
        Ok(self.out)
    }

    /// CopyDone for the CopyBoth in progress: the client ends its side; the server finishes
    /// its own with CopyDone, then the statement's results and ReadyForQuery follow.
    pub fn copy_both_done(&mut self) -> Result<(), ProtoError> {
        self.check_copy_both("CopyDone")?;
        frontend::copy_done(self.out);
        self.exchange.copy_both_ended();
        Ok(())
    }

    /// Whether the client's side of a CopyBoth is open (CopyData and CopyDone may be written).
    pub fn in_copy_both(&self) -> bool {
        self.exchange.in_copy_both()
    }

    fn check_copy_both(&self, message: &'static str) -> Result<(), ProtoError> {
        if self.exchange.in_copy_both() {
            Ok(())
        } else {
            Err(ProtoError::Unexpected {
                expected: "a CopyBoth (START_REPLICATION) in progress before sending CopyBoth data",
                got: message,
            })
        }
    }

    /// Whether a COPY FROM STDIN waits for the client's data.
    pub fn in_copy_in(&self) -> bool {
        self.exchange.in_copy_in()
    }

    fn check_copy_in(&self, message: &'static str) -> Result<(), ProtoError> {
        if self.exchange.in_copy_in() {
            Ok(())
        } else {
            // The client's side of the same rule: no COPY data outside COPY FROM STDIN.
            Err(ProtoError::Unexpected {
                expected: "a COPY FROM STDIN in progress before sending COPY data",
                got: message,
            })
        }
    }
}
