//! The small backend messages with fixed or simple layouts, decoded eagerly and strictly: a
//! body with missing or extra bytes, or text that is not UTF-8, is [`ProtoError::Malformed`].

use bytes::Bytes;

use super::reader::Reader;
use crate::proto::ProtoError;

use crate::proto::frontend::{MAX_CANCEL_KEY_LEN as MAX_SECRET_KEY_LEN, MIN_CANCEL_KEY_LEN};

/// The transaction status reported by every ReadyForQuery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionStatus {
    /// `'I'`: not in a transaction block.
    Idle,
    /// `'T'`: in a transaction block.
    InTransaction,
    /// `'E'`: in a failed transaction block; statements are refused until it is rolled back.
    Failed,
}

impl TransactionStatus {
    /// Decodes the one-byte body of ReadyForQuery.
    pub(super) fn parse(body: Bytes) -> Result<TransactionStatus, ProtoError> {
        let mut r = Reader::new("ReadyForQuery", &body);
        let status = match r.u8("the transaction status")? {
            b'I' => TransactionStatus::Idle,
            b'T' => TransactionStatus::InTransaction,
            b'E' => TransactionStatus::Failed,
            other => return Err(r.error(format!("unknown transaction status byte 0x{other:02x}"))),
        };
        r.finish()?;
        Ok(status)
    }
}

/// The key a client needs to cancel this backend's queries (CancelRequest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendKeyData {
    /// The backend's process ID.
    pub process_id: i32,
    /// The secret key: 4 bytes in protocol 3.0, up to 256 in protocol 3.2.
    pub secret_key: Bytes,
}

impl BackendKeyData {
    pub(super) fn parse(body: Bytes) -> Result<BackendKeyData, ProtoError> {
        let mut r = Reader::new("BackendKeyData", &body);
        let process_id = r.i32("the process ID")?;
        let secret_key = r.rest();
        // 4..=256 whatever the version (libpq 18's bounds); the session checks that a 3.0
        // session's key is exactly 4 bytes, since only it knows the version.
        if !(MIN_CANCEL_KEY_LEN..=MAX_SECRET_KEY_LEN).contains(&secret_key.len()) {
            return Err(r.error(format!(
                "the secret key is {} bytes, outside {MIN_CANCEL_KEY_LEN}..={MAX_SECRET_KEY_LEN}",
                secret_key.len()
            )));
        }
        Ok(BackendKeyData {
            process_id,
            secret_key,
        })
    }
}

/// The end of one SQL command's results: its command tag, e.g. `"INSERT 0 5"`.
///
/// ```
/// use bytes::Bytes;
/// use tusk::proto::backend::Message;
/// use tusk::proto::framing::Frame;
///
/// let body = Bytes::from_static(b"UPDATE 3\0");
/// let Message::CommandComplete(done) = Message::parse(Frame { tag: b'C', body }).unwrap() else {
///     unreachable!()
/// };
/// assert_eq!((done.tag(), done.rows()), ("UPDATE 3", Some(3)));
/// ```
#[derive(Clone)]
pub struct CommandComplete {
    // Checked to be UTF-8 when parsed. A tag is short ("SELECT 1", "INSERT 0 5"): kept inline
    // it costs no allocation, no reference count and no frame split (one arrives with every
    // statement); a longer one shares the message body.
    tag: Tag,
}

/// The longest tag kept inline.
const INLINE_TAG: usize = 38;

#[derive(Clone)]
enum Tag {
    Inline { len: u8, bytes: [u8; INLINE_TAG] },
    Shared(Bytes),
}

impl std::fmt::Debug for CommandComplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandComplete")
            .field("tag", &self.tag())
            .finish()
    }
}

impl PartialEq for CommandComplete {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for CommandComplete {}

impl std::hash::Hash for CommandComplete {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes().hash(state);
    }
}

impl CommandComplete {
    pub(super) fn parse(body: Bytes) -> Result<CommandComplete, ProtoError> {
        let len = Self::check(&body)?;
        if len <= INLINE_TAG {
            return Ok(Self::inline(&body[..len]));
        }
        let mut tag = body;
        tag.truncate(len);
        Ok(CommandComplete {
            tag: Tag::Shared(tag),
        })
    }

    /// Decodes a body that is still in the read buffer: `None` unless it is valid and its tag
    /// fits inline (then nothing needs to be split off the buffer).
    pub(super) fn parse_inline(body: &[u8]) -> Option<CommandComplete> {
        match Self::check(body) {
            Ok(len) if len <= INLINE_TAG => Some(Self::inline(&body[..len])),
            _ => None,
        }
    }

    fn inline(tag: &[u8]) -> CommandComplete {
        let mut bytes = [0; INLINE_TAG];
        bytes[..tag.len()].copy_from_slice(tag);
        CommandComplete {
            tag: Tag::Inline {
                // At most INLINE_TAG (38), checked by the callers.
                len: tag.len() as u8,
                bytes,
            },
        }
    }

    /// Checks a body (`tag` NUL) and gives the tag's length.
    fn check(body: &[u8]) -> Result<usize, ProtoError> {
        let malformed = |reason: String| ProtoError::malformed("CommandComplete", reason);
        let Some(len) = body.iter().position(|&b| b == 0) else {
            return Err(malformed("the command tag is not NUL-terminated".into()));
        };
        let tag = &body[..len];
        // Tags are ASCII; the full UTF-8 check only runs for anything else.
        if !tag.is_ascii() && std::str::from_utf8(tag).is_err() {
            return Err(malformed("the command tag is not valid UTF-8".into()));
        }
        match body.len() - len - 1 {
            0 => Ok(len),
            n => Err(malformed(format!("{n} unexpected bytes at the end"))),
        }
    }

    fn bytes(&self) -> &[u8] {
        match &self.tag {
            Tag::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Tag::Shared(bytes) => bytes,
        }
    }

    /// The command tag, e.g. `"SELECT 10"` or `"CREATE TABLE"`.
    pub fn tag(&self) -> &str {
        // Checked to be UTF-8 in `parse`, so this never falls back.
        std::str::from_utf8(self.bytes()).unwrap_or_default()
    }

    /// The number of rows the command returned or affected, for the commands whose tag carries
    /// one: `INSERT oid rows`, and `UPDATE`, `DELETE`, `MERGE`, `SELECT` (also for
    /// `CREATE TABLE AS`), `MOVE`, `FETCH` and `COPY` followed by the count. `None` otherwise.
    pub fn rows(&self) -> Option<u64> {
        // Worked on the bytes: the tag is ASCII for every command that carries a count.
        let mut words = self.bytes().split(|&b| b == b' ');
        let command = words.next()?;
        let count = match command {
            b"INSERT" => {
                let _oid = words.next()?;
                words.next()?
            }
            b"UPDATE" | b"DELETE" | b"MERGE" | b"SELECT" | b"MOVE" | b"FETCH" | b"COPY" => {
                words.next()?
            }
            _ => return None,
        };
        if words.next().is_some() || count.is_empty() {
            return None;
        }
        // The same as `str::parse::<u64>` on ASCII digits (no sign, no overflow).
        count.iter().try_fold(0u64, |n, &b| {
            let digit = b.checked_sub(b'0').filter(|d| *d < 10)?;
            n.checked_mul(10)?.checked_add(u64::from(digit))
        })
    }
}

/// The start of a COPY: CopyInResponse, CopyOutResponse or CopyBothResponse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CopyResponse {
    /// The overall format: 0 text, 1 binary.
    pub format: i8,
    column_formats: Vec<i16>,
}

impl CopyResponse {
    pub(super) fn parse(message: &'static str, body: Bytes) -> Result<CopyResponse, ProtoError> {
        let mut r = Reader::new(message, &body);
        let format = r.u8("the overall format")? as i8;
        if !matches!(format, 0 | 1) {
            return Err(r.error(format!("unknown overall format {format}")));
        }
        let count = usize::from(r.u16("the column count")?);
        if r.remaining() != count * 2 {
            return Err(r.error(format!(
                "{count} column formats announced but {} bytes follow",
                r.remaining()
            )));
        }
        let mut column_formats = Vec::with_capacity(count);
        for i in 0..count {
            let column_format = r.i16("a column format")?;
            if !matches!(column_format, 0 | 1) {
                return Err(r.error(format!("column {i} has unknown format {column_format}")));
            }
            column_formats.push(column_format);
        }
        Ok(CopyResponse {
            format,
            column_formats,
        })
    }

    /// The format of each column: 0 text, 1 binary. All 0 when [`CopyResponse::format`] is 0.
    pub fn column_formats(&self) -> &[i16] {
        &self.column_formats
    }
}

/// A NOTIFY delivered to a channel this session listens on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    /// The process ID of the notifying backend.
    pub process_id: i32,
    /// The channel name.
    pub channel: String,
    /// The payload; empty when NOTIFY gave none.
    pub payload: String,
}

impl Notification {
    pub(super) fn parse(body: Bytes) -> Result<Notification, ProtoError> {
        let mut r = Reader::new("NotificationResponse", &body);
        let process_id = r.i32("the process ID")?;
        let channel = r.cstr("the channel name")?.to_owned();
        let payload = r.cstr("the payload")?.to_owned();
        r.finish()?;
        Ok(Notification {
            process_id,
            channel,
            payload,
        })
    }
}

/// The server does not support the requested minor protocol version or some `_pq_.` startup
/// options.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NegotiateProtocolVersion {
    /// The newest protocol version the server supports for the requested major version. The
    /// protocol documentation calls it the newest minor version, but PostgreSQL sends the
    /// whole version code (`major << 16 | minor`: 196608 for 3.0) and libpq reads it so; see
    /// [`ProtocolVersion::from_code`](crate::proto::ProtocolVersion::from_code).
    pub newest_minor: i32,
    /// The protocol options the server did not recognize.
    pub unrecognized: Vec<String>,
}

impl NegotiateProtocolVersion {
    pub(super) fn parse(body: Bytes) -> Result<NegotiateProtocolVersion, ProtoError> {
        let mut r = Reader::new("NegotiateProtocolVersion", &body);
        let newest_minor = r.i32("the newest minor version")?;
        let count = r.i32("the option count")?;
        // Each option takes at least its NUL, which bounds the count before allocating.
        let count = match usize::try_from(count) {
            Ok(count) if count <= r.remaining() => count,
            _ => {
                return Err(r.error(format!(
                    "{count} options announced but only {} bytes follow",
                    r.remaining()
                )))
            }
        };
        let mut unrecognized = Vec::with_capacity(count);
        for _ in 0..count {
            unrecognized.push(r.cstr("an option name")?.to_owned());
        }
        r.finish()?;
        Ok(NegotiateProtocolVersion {
            newest_minor,
            unrecognized,
        })
    }
}

/// The parameter types of a prepared statement (the reply to Describe of a statement).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParameterDescription {
    /// The type OID of each parameter, in order.
    pub types: Vec<u32>,
}

impl ParameterDescription {
    pub(super) fn parse(body: Bytes) -> Result<ParameterDescription, ProtoError> {
        let mut r = Reader::new("ParameterDescription", &body);
        let count = usize::from(r.u16("the parameter count")?);
        if r.remaining() != count * 4 {
            return Err(r.error(format!(
                "{count} parameters announced but {} bytes follow",
                r.remaining()
            )));
        }
        let mut types = Vec::with_capacity(count);
        for _ in 0..count {
            types.push(r.u32("a parameter type")?);
        }
        Ok(ParameterDescription { types })
    }
}

/// The current value of a server parameter, sent at startup and whenever a reported parameter
/// (such as `client_encoding` or `TimeZone`) changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParameterStatus {
    /// The parameter's name, e.g. `"server_version"`.
    pub name: String,
    /// Its value.
    pub value: String,
}

impl ParameterStatus {
    pub(super) fn parse(body: Bytes) -> Result<ParameterStatus, ProtoError> {
        let mut r = Reader::new("ParameterStatus", &body);
        let name = r.cstr("the parameter name")?.to_owned();
        let value = r.cstr("the parameter value")?.to_owned();
        r.finish()?;
        Ok(ParameterStatus { name, value })
    }
}
