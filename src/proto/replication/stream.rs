//! The streaming replication sub-protocol carried in CopyData once START_REPLICATION has
//! answered CopyBothResponse: what the server sends ([`XLogData`], [`PrimaryKeepalive`]) and
//! what the client sends back ([`standby_status_update`], [`hot_standby_feedback`]).
//!
//! Timestamps are the server's: microseconds since 2000-01-01 00:00:00 UTC
//! ([`PG_EPOCH_UNIX_MICROS`] converts). This module reads no clock; the caller passes the
//! client's time in.

use bytes::{BufMut, Bytes, BytesMut};

use super::Lsn;
use crate::proto::backend::reader::Reader;
use crate::proto::ProtoError;

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00:00 UTC).
pub const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

/// A message the server sends inside a replication stream's CopyData.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicationMessage {
    /// `w`: a chunk of WAL (physical) or one logical decoding output message (logical).
    XLogData(XLogData),
    /// `k`: the server's position and clock, and whether it wants a status update at once.
    PrimaryKeepalive(PrimaryKeepalive),
}

/// `w`: WAL data starting at [`wal_start`](XLogData::wal_start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XLogData {
    /// The WAL position of the first byte of `data` (for logical replication: the LSN the
    /// output plugin's message belongs to; 0/0 for some messages).
    pub wal_start: Lsn,
    /// The end of WAL on the server when this was sent.
    pub wal_end: Lsn,
    /// The server's clock when this was sent (µs since 2000-01-01 UTC).
    pub server_time: i64,
    /// The WAL bytes, or the output plugin's message (pgoutput: see
    /// [`pgoutput`](super::pgoutput)); shares the CopyData's buffer.
    pub data: Bytes,
}

/// `k`: a keepalive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrimaryKeepalive {
    /// The end of WAL on the server.
    pub wal_end: Lsn,
    /// The server's clock when this was sent (µs since 2000-01-01 UTC).
    pub server_time: i64,
    /// The server asks for a status update at once (it will otherwise end the connection
    /// after `wal_sender_timeout`).
    pub reply_requested: bool,
}

impl ReplicationMessage {
    /// Decodes one CopyData body of a replication stream.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use tusk::proto::replication::{Lsn, ReplicationMessage};
    ///
    /// let mut body = vec![b'k'];
    /// body.extend_from_slice(&0x1_0000_0028u64.to_be_bytes()); // end of WAL
    /// body.extend_from_slice(&1_000_000i64.to_be_bytes()); // server time
    /// body.push(1); // reply requested
    /// let ReplicationMessage::PrimaryKeepalive(k) = ReplicationMessage::parse(Bytes::from(body))?
    /// else { unreachable!() };
    /// assert_eq!(k.wal_end, "1/28".parse::<Lsn>().unwrap());
    /// assert!(k.reply_requested);
    /// # Ok::<(), tusk::proto::ProtoError>(())
    /// ```
    pub fn parse(body: Bytes) -> Result<ReplicationMessage, ProtoError> {
        let mut r = Reader::new("replication CopyData", &body);
        match r.u8("the message type")? {
            b'w' => {
                r.set_message("XLogData");
                let wal_start = Lsn(r.u64("the WAL start")?);
                let wal_end = Lsn(r.u64("the end of WAL")?);
                let server_time = r.i64("the server time")?;
                Ok(ReplicationMessage::XLogData(XLogData {
                    wal_start,
                    wal_end,
                    server_time,
                    data: r.rest(),
                }))
            }
            b'k' => {
                r.set_message("PrimaryKeepalive");
                let wal_end = Lsn(r.u64("the end of WAL")?);
                let server_time = r.i64("the server time")?;
                let reply_requested = match r.u8("the reply flag")? {
                    0 => false,
                    1 => true,
                    other => return Err(r.error(format!("the reply flag is {other}, not 0 or 1"))),
                };
                r.finish()?;
                Ok(ReplicationMessage::PrimaryKeepalive(PrimaryKeepalive {
                    wal_end,
                    server_time,
                    reply_requested,
                }))
            }
            other => Err(r.error(format!(
                "unknown replication message type {:?} (expected 'w' XLogData or 'k' \
                 PrimaryKeepalive)",
                char::from(other)
            ))),
        }
    }
}

/// The positions a [`standby_status_update`] reports: each is the location of the last WAL
/// byte + 1 the client has received and written, flushed to durable storage, and applied.
/// The server may remove WAL (and a logical slot advances its `confirmed_flush_lsn`) up to
/// `flushed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StandbyStatus {
    /// Received and written.
    pub written: Lsn,
    /// Flushed to durable storage: what the server may forget.
    pub flushed: Lsn,
    /// Applied.
    pub applied: Lsn,
}

/// Appends a CopyData carrying a Standby Status Update (`r`): `status`, the client's clock
/// (µs since 2000-01-01 UTC) and whether the server should answer with a keepalive at once.
///
/// ```
/// use bytes::BytesMut;
/// use tusk::proto::replication::{standby_status_update, Lsn, StandbyStatus};
///
/// let mut buf = BytesMut::new();
/// let at = Lsn(0x1_0000_0010);
/// standby_status_update(StandbyStatus { written: at, flushed: at, applied: at }, 7, false, &mut buf);
/// assert_eq!(buf.len(), 1 + 4 + 34);
/// assert_eq!(&buf[..6], b"d\0\0\0\x26r");
/// ```
pub fn standby_status_update(
    status: StandbyStatus,
    client_time: i64,
    reply_requested: bool,
    buf: &mut BytesMut,
) {
    // Fixed size: 'r', three LSNs, the time, the flag (34 bytes) plus the length field.
    buf.reserve(1 + 4 + 34);
    buf.put_u8(b'd');
    buf.put_i32(4 + 34);
    buf.put_u8(b'r');
    buf.put_u64(status.written.0);
    buf.put_u64(status.flushed.0);
    buf.put_u64(status.applied.0);
    buf.put_i64(client_time);
    buf.put_u8(u8::from(reply_requested));
}

/// The transaction horizon a physical standby reports with [`hot_standby_feedback`] so the
/// primary keeps the rows its queries still need: `xmin` and `catalog_xmin` with their epochs;
/// 0 in an xmin means "none".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HotStandbyFeedback {
    /// The oldest transaction ID still needed on the standby, or 0.
    pub xmin: u32,
    /// Its epoch.
    pub xmin_epoch: u32,
    /// The oldest catalog transaction ID still needed (for a logical slot on the standby), or 0.
    pub catalog_xmin: u32,
    /// Its epoch.
    pub catalog_xmin_epoch: u32,
}

/// Appends a CopyData carrying Hot Standby Feedback (`h`) with the client's clock.
pub fn hot_standby_feedback(feedback: HotStandbyFeedback, client_time: i64, buf: &mut BytesMut) {
    // Fixed size: 'h', the time, four Int32 (25 bytes) plus the length field.
    buf.reserve(1 + 4 + 25);
    buf.put_u8(b'd');
    buf.put_i32(4 + 25);
    buf.put_u8(b'h');
    buf.put_i64(client_time);
    buf.put_u32(feedback.xmin);
    buf.put_u32(feedback.xmin_epoch);
    buf.put_u32(feedback.catalog_xmin);
    buf.put_u32(feedback.catalog_xmin_epoch);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xlogdata_from_documented_layout() {
        let mut body = b"w".to_vec();
        body.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0x10]); // 1/10
        body.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0x20]); // 1/20
        body.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x03, 0xE8]); // 1000 µs
        body.extend_from_slice(b"WAL!");
        let msg = ReplicationMessage::parse(Bytes::from(body)).unwrap();
        assert_eq!(
            msg,
            ReplicationMessage::XLogData(XLogData {
                wal_start: Lsn(0x1_0000_0010),
                wal_end: Lsn(0x1_0000_0020),
                server_time: 1000,
                data: Bytes::from_static(b"WAL!"),
            })
        );
    }

    #[test]
    fn every_truncation_is_malformed_and_junk_is_refused() {
        let mut xlog = b"w".to_vec();
        xlog.extend_from_slice(&[7; 24]);
        let mut keepalive = b"k".to_vec();
        keepalive.extend_from_slice(&[7; 16]);
        keepalive.push(0);
        for whole in [&xlog, &keepalive] {
            assert!(ReplicationMessage::parse(Bytes::copy_from_slice(whole)).is_ok());
            for cut in 0..whole.len() {
                let err = ReplicationMessage::parse(Bytes::copy_from_slice(&whole[..cut]));
                assert!(
                    matches!(err, Err(ProtoError::Malformed { .. })),
                    "cut at {cut}"
                );
            }
        }
        let mut long = keepalive.clone();
        long.push(0);
        assert!(ReplicationMessage::parse(Bytes::from(long)).is_err());
        let mut flag = keepalive.clone();
        *flag.last_mut().unwrap() = 2;
        assert!(ReplicationMessage::parse(Bytes::from(flag)).is_err());
        let err = ReplicationMessage::parse(Bytes::from_static(b"x")).unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown replication message type 'x'"),
            "{err}"
        );
    }

    #[test]
    fn status_update_bytes() {
        let mut buf = BytesMut::new();
        let status = StandbyStatus {
            written: Lsn(0x0102_0304_0506_0708),
            flushed: Lsn(0x10),
            applied: Lsn(0x20),
        };
        standby_status_update(status, -2, true, &mut buf);
        let mut want = b"d\0\0\0\x26r".to_vec();
        want.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0x10]);
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0x20]);
        want.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]);
        want.push(1);
        assert_eq!(&buf[..], &want[..]);
    }

    #[test]
    fn hot_standby_feedback_bytes() {
        let mut buf = BytesMut::new();
        let feedback = HotStandbyFeedback {
            xmin: 5,
            xmin_epoch: 1,
            catalog_xmin: 0,
            catalog_xmin_epoch: 0,
        };
        hot_standby_feedback(feedback, 3, &mut buf);
        let mut want = b"d\0\0\0\x1dh".to_vec();
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 3]);
        want.extend_from_slice(&[0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&buf[..], &want[..]);
    }
}
