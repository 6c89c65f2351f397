//! COPY: COPY TO STDOUT sends table `t` at once; COPY FROM STDIN switches the server into
//! copy-in mode, where CopyData is gathered, CopyDone stores it, Flush and Sync are ignored,
//! and CopyFail or any other message ends the COPY with an error. A COPY run by a simple Query
//! keeps the Query's remaining statements for when it ends.

use std::collections::VecDeque;

use tusk::proto::server::{backend, FrontendMessage};
use tusk::proto::ProtoError;

use super::backend::Backend;
use super::replies::put_command_complete;
use super::sql::sql_error;

/// A COPY FROM STDIN in progress.
#[derive(Debug, Default)]
pub(super) struct CopyIn {
    /// The data received so far (stored at CopyDone).
    data: Vec<u8>,
    /// For a COPY run by a simple Query: the statements after it.
    pub(super) simple_rest: Option<VecDeque<String>>,
}

impl Backend {
    /// Starts a COPY FROM STDIN: CopyInResponse, then copy-in mode.
    pub(super) fn start_copy_in(&mut self) {
        // One text column; sent at once, as PostgreSQL does.
        backend::copy_in_response(0, &[0], &mut self.out).expect("a text COPY of one column");
        self.copy_in = Some(CopyIn::default());
        self.flush_now = true;
    }

    /// Runs a COPY TO STDOUT: CopyOutResponse, a CopyData per row of table `t`, CopyDone and
    /// CommandComplete.
    pub(super) fn copy_out(&mut self) {
        let table = self.lock().stats.table.clone();
        backend::copy_out_response(0, &[0], &mut self.out).expect("a text COPY of one column");
        for row in &table {
            backend::copy_data(format!("{row}\n").as_bytes(), &mut self.out)
                .expect("a row fits a CopyData");
        }
        backend::copy_done(&mut self.out);
        put_command_complete(&mut self.out, &format!("COPY {}", table.len()));
    }

    /// A message while a COPY FROM STDIN runs; returns whether the replies are sent now.
    pub(super) fn copy_message(&mut self, message: Result<FrontendMessage, ProtoError>) -> bool {
        let copy = self.copy_in.as_mut().expect("in COPY FROM STDIN");
        let result = match message {
            Ok(FrontendMessage::CopyData(data)) => {
                copy.data.extend_from_slice(&data);
                return false;
            }
            // Ignored during COPY FROM STDIN, as PostgreSQL does "for the convenience of
            // client libraries that may send those without noticing that the command they
            // just sent was COPY".
            Ok(FrontendMessage::Flush | FrontendMessage::Sync) => return false,
            Ok(FrontendMessage::CopyDone) => {
                let data = std::mem::take(&mut copy.data);
                let rows: Vec<String> = String::from_utf8_lossy(&data)
                    .lines()
                    .map(str::to_owned)
                    .collect();
                let n = rows.len();
                self.lock().stats.table.extend(rows);
                put_command_complete(&mut self.out, &format!("COPY {n}"));
                Ok(())
            }
            Ok(FrontendMessage::CopyFail(reason)) => Err(sql_error(
                "57014",
                format!("COPY from stdin failed: {reason}"),
            )),
            Ok(other) => Err(sql_error(
                "08P01",
                format!(
                    "unexpected message type 0x{:02X} during COPY from stdin",
                    other.tag()
                ),
            )),
            Err(e) => Err(sql_error("08P01", format!("invalid message format: {e}"))),
        };
        let copy = self.copy_in.take().expect("in COPY FROM STDIN");
        match (result, copy.simple_rest) {
            (Ok(()), Some(rest)) => self.run_simple(rest),
            (Ok(()), None) => return false,
            (Err(e), Some(_)) => {
                self.error(e);
                self.ready();
            }
            (Err(e), None) => self.error(e),
        }
        true
    }
}
