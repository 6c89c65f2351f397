//! COPY: COPY TO STDOUT sends table `t` at once; COPY FROM STDIN switches the server into
//! copy-in mode, where CopyData is gathered, CopyDone stores it, Flush and Sync are ignored,
//! and CopyFail or any other message ends the COPY with an error. A COPY run by a simple Query
//! keeps the Query's remaining statements for when it ends.

use std::collections::VecDeque;
use std::io;

use super::backend::Backend;
use super::frontend::Reader;
use super::replies::command_complete;
use super::sql::sql_error;
use crate::wire;

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
        self.out.extend(wire::msg(b'G', &[0, 0, 1, 0, 0]));
        self.copy_in = Some(CopyIn::default());
        self.flush_now = true;
    }

    /// Runs a COPY TO STDOUT: CopyOutResponse, a CopyData per row of table `t`, CopyDone and
    /// CommandComplete.
    pub(super) fn copy_out(&mut self) {
        let table = self.lock().stats.table.clone();
        self.out.extend(wire::msg(b'H', &[0, 0, 1, 0, 0]));
        for row in &table {
            self.out
                .extend(wire::msg(b'd', format!("{row}\n").as_bytes()));
        }
        self.out.extend(wire::msg(b'c', &[]));
        self.out
            .extend(command_complete(&format!("COPY {}", table.len())));
    }

    /// A message while a COPY FROM STDIN runs; returns whether the replies are sent now.
    pub(super) fn copy_message(&mut self, tag: u8, body: &[u8]) -> io::Result<bool> {
        let copy = self.copy_in.as_mut().expect("in COPY FROM STDIN");
        let result = match tag {
            b'd' => {
                copy.data.extend_from_slice(body);
                return Ok(false);
            }
            // Ignored during COPY FROM STDIN, as PostgreSQL does "for the convenience of
            // client libraries that may send those without noticing that the command they
            // just sent was COPY".
            b'H' | b'S' => return Ok(false),
            b'c' => {
                let data = std::mem::take(&mut copy.data);
                let rows: Vec<String> = String::from_utf8_lossy(&data)
                    .lines()
                    .map(str::to_owned)
                    .collect();
                let n = rows.len();
                self.lock().stats.table.extend(rows);
                self.out.extend(command_complete(&format!("COPY {n}")));
                Ok(())
            }
            b'f' => {
                let reason = Reader(body).cstr()?;
                Err(sql_error(
                    "57014",
                    format!("COPY from stdin failed: {reason}"),
                ))
            }
            other => Err(sql_error(
                "08P01",
                format!("unexpected message type 0x{other:02X} during COPY from stdin"),
            )),
        };
        let copy = self.copy_in.take().expect("in COPY FROM STDIN");
        match (result, copy.simple_rest) {
            (Ok(()), Some(rest)) => self.run_simple(rest),
            (Ok(()), None) => return Ok(false),
            (Err(e), Some(_)) => {
                self.error(e);
                self.ready();
            }
            (Err(e), None) => self.error(e),
        }
        Ok(true)
    }
}
