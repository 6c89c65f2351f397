//! Frontend messages: reading their fields ([`Reader`]) and dispatching a message outside
//! COPY to the code that handles it (see `extended`, `simple`); messages during a COPY FROM
//! STDIN go to `copy` instead.

use std::io;

use super::backend::Backend;
use super::sql::sql_error;
use crate::wire;

impl Backend {
    /// Handles one frontend message; returns whether its replies are sent now.
    pub(super) fn message(&mut self, tag: u8, body: &[u8]) -> io::Result<bool> {
        let mut r = Reader(body);
        match tag {
            b'P' => {
                let name = r.cstr()?;
                let sql = r.cstr()?;
                self.parse(name, sql);
            }
            b'B' => {
                let portal = r.cstr()?;
                let statement = r.cstr()?;
                let formats = (0..r.i16()?)
                    .map(|_| r.i16())
                    .collect::<io::Result<Vec<_>>>()?;
                let mut values = Vec::new();
                for _ in 0..r.i16()? {
                    let len = r.i32()?;
                    values.push(if len < 0 {
                        None
                    } else {
                        Some(r.bytes(len as usize)?.to_vec())
                    });
                }
                let results = (0..r.i16()?)
                    .map(|_| r.i16())
                    .collect::<io::Result<Vec<_>>>()?;
                self.bind(portal, statement, &formats, &values, &results);
            }
            b'D' => {
                let kind = r.u8()?;
                let name = r.cstr()?;
                self.describe(kind, name);
            }
            b'E' => {
                let portal = r.cstr()?;
                let max_rows = r.i32()?;
                self.execute(portal, max_rows);
            }
            b'C' => {
                let kind = r.u8()?;
                let name = r.cstr()?;
                // Closing what does not exist is not an error.
                if kind == b'S' {
                    self.statements.remove(&name);
                    self.record_statements();
                } else {
                    self.portals.remove(&name);
                }
                self.out.extend(wire::msg(b'3', &[]));
            }
            b'H' => return Ok(true),
            b'S' => {
                // The unnamed portal and any other portal end with the implicit transaction.
                if self.status == b'I' {
                    self.portals.clear();
                }
                self.ready();
                return Ok(true);
            }
            b'Q' => {
                let sql = r.cstr()?;
                self.simple_query(&sql);
                return Ok(true);
            }
            // Outside COPY these are ignored, as PostgreSQL does.
            b'd' | b'c' | b'f' => {}
            other => {
                self.error(sql_error(
                    "08P01",
                    format!("invalid frontend message type {}", other),
                ));
                return Ok(true);
            }
        }
        Ok(false)
    }
}

pub(super) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Reads the fields of a frontend message body.
pub(super) struct Reader<'a>(pub(super) &'a [u8]);

impl Reader<'_> {
    fn bytes(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.0.len() < n {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "frontend message too short",
            ));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    fn i16(&mut self) -> io::Result<i16> {
        Ok(i16::from_be_bytes(self.bytes(2)?.try_into().unwrap()))
    }

    fn i32(&mut self) -> io::Result<i32> {
        Ok(i32::from_be_bytes(self.bytes(4)?.try_into().unwrap()))
    }

    pub(super) fn cstr(&mut self) -> io::Result<String> {
        let nul = self
            .0
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unterminated string"))?;
        let s = lossy(&self.0[..nul]);
        self.0 = &self.0[nul + 1..];
        Ok(s)
    }
}
