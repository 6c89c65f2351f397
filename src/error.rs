//! The public error type: one opaque [`Error`] with a [`Kind`], the server's [`DbError`] when
//! the server raised it, and the underlying cause.

use std::error::Error as StdError;
use std::fmt;

use crate::proto::ProtoError;
use crate::sqlstate::SqlState;

/// A boxed error from user code or a codec, as carried in [`Error::source`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The value a [`Kind::Conversion`] error is about, with the SQL and Rust types involved
/// ([`Error::as_conversion`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Conversion {
    /// Which value.
    pub value: ConvertedValue,
    /// The SQL type's name, e.g. `int4`.
    pub sql_type: String,
    /// The Rust type's name, e.g. `&str` or `i64`.
    pub rust_type: String,
}

impl Conversion {
    /// Describes a conversion of `value` between `sql_type` and `rust_type`.
    pub(crate) fn new(
        value: ConvertedValue,
        sql_type: impl fmt::Display,
        rust_type: impl Into<String>,
    ) -> Conversion {
        Conversion {
            value,
            sql_type: sql_type.to_string(),
            rust_type: rust_type.into(),
        }
    }
}

/// Which value a conversion was about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConvertedValue {
    /// Statement parameter `$n` (1-based), being encoded.
    Parameter(usize),
    /// Result column `index` (0-based), being read; `name` when the result has names (a
    /// binary COPY's rows do not).
    Column {
        /// The 0-based position.
        index: usize,
        /// The column's name.
        name: Option<String>,
    },
    /// Field `index` (0-based) of a row written by a binary COPY, being encoded.
    Field {
        /// The 0-based position.
        index: usize,
    },
}

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// Reading from or writing to the socket failed.
    Io,
    /// The server sent something the protocol does not allow, or a value could not be encoded
    /// into a message.
    Protocol,
    /// Authentication failed on the client side (unsupported method, missing password, a server
    /// that could not prove it knows the password, a server request refused by `require_auth` or
    /// `channel_binding`).
    Auth,
    /// A connection string or setting is invalid.
    Config,
    /// A value could not be converted between its Rust and SQL types.
    Conversion,
    /// The server reported an error (an ErrorResponse); see [`Error::as_db_error`].
    Db,
    /// The current transaction is aborted; the statement was refused without contacting the
    /// server. Roll back first.
    AbortedTransaction,
    /// An operation did not finish within its time limit.
    Timeout,
    /// The connection is closed.
    Closed,
    /// A query returned a different number of rows than the call requires
    /// (`query_one`, `query_opt`).
    RowCount,
    /// The caller misused the API: a wrong parameter count, an unknown column, and the like.
    Usage,
    /// TLS could not be set up: a certificate, key or CRL file could not be used, the
    /// handshake failed, or the server's certificate was refused (unknown CA, wrong name,
    /// expired, revoked). The message names the cause; the rustls error, when there is one, is
    /// the [`source`](std::error::Error::source).
    Tls,
    /// A server was passed over because its role did not match `target_session_attrs` (a
    /// standby when a read-write session was wanted, a primary when a standby was).
    ServerRole,
}

/// The error of every fallible tusk operation.
///
/// It is small (one pointer) and opaque: ask it what it is with [`Error::kind`], [`Error::code`],
/// [`Error::as_db_error`] and [`Error::is_closed`].
///
/// ```
/// # fn check(err: &tusk::Error) {
/// if err.code() == Some(&tusk::SqlState::UNIQUE_VIOLATION) {
///     // the row exists already
/// }
/// # }
/// ```
pub struct Error(Box<Inner>);

struct Inner {
    kind: Kind,
    message: Option<String>,
    conversion: Option<Conversion>,
    db: Option<DbError>,
    code: Option<SqlState>,
    source: Option<BoxError>,
}

impl Error {
    fn new(kind: Kind) -> Error {
        Error(Box::new(Inner {
            kind,
            message: None,
            conversion: None,
            db: None,
            code: None,
            source: None,
        }))
    }

    pub(crate) fn with_message(mut self, message: impl Into<String>) -> Error {
        self.0.message = Some(message.into());
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Error {
        self.0.source = Some(source.into());
        self
    }

    /// An error reported by the server.
    pub(crate) fn db(db: DbError) -> Error {
        let mut e = Error::new(Kind::Db);
        e.0.code = Some(db.code.clone());
        e.0.db = Some(db);
        e
    }

    pub(crate) fn io(err: std::io::Error) -> Error {
        Error::new(Kind::Io).with_source(err)
    }

    pub(crate) fn protocol(err: ProtoError) -> Error {
        let kind = match err {
            ProtoError::UnsupportedAuth(_)
            | ProtoError::Auth(_)
            | ProtoError::Scram(_)
            | ProtoError::AuthRefused(_) => Kind::Auth,
            _ => Kind::Protocol,
        };
        Error::new(kind).with_source(err)
    }

    pub(crate) fn auth(message: impl Into<String>) -> Error {
        Error::new(Kind::Auth).with_message(message)
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::new(Kind::Config).with_message(message)
    }

    pub(crate) fn conversion(message: impl Into<String>) -> Error {
        Error::new(Kind::Conversion).with_message(message)
    }

    /// A value that could not be converted, described for both the message and
    /// [`Error::as_conversion`]: `cannot encode parameter $1 of SQL type int4 from Rust type
    /// &str`, `cannot convert column 0 ("n") of SQL type int8 into Rust type i32: the types
    /// do not match`.
    pub(crate) fn converting(detail: Conversion, mismatch: bool) -> Error {
        let what = match &detail.value {
            ConvertedValue::Parameter(n) => format!(
                "cannot encode parameter ${n} of SQL type {} from Rust type {}",
                detail.sql_type, detail.rust_type
            ),
            ConvertedValue::Column {
                index,
                name: Some(name),
            } => format!(
                "cannot convert column {index} ({name:?}) of SQL type {} into Rust type {}",
                detail.sql_type, detail.rust_type
            ),
            ConvertedValue::Column { index, name: None } => format!(
                "cannot convert column {index} of SQL type {} into Rust type {}",
                detail.sql_type, detail.rust_type
            ),
            ConvertedValue::Field { index } => format!(
                "cannot encode column {index} of SQL type {} from Rust type {}",
                detail.sql_type, detail.rust_type
            ),
        };
        let message = if mismatch {
            format!("{what}: the types do not match")
        } else {
            what
        };
        let mut e = Error::conversion(message);
        e.0.conversion = Some(detail);
        e
    }

    pub(crate) fn closed() -> Error {
        Error::new(Kind::Closed).with_message("the connection is closed")
    }

    /// A time limit passed (connecting, delivering a cancel request): its own kind, no
    /// SQLSTATE, so it is never mistaken for a statement the server cancelled.
    pub(crate) fn timeout(message: impl Into<String>) -> Error {
        Error::new(Kind::Timeout).with_message(message)
    }

    /// A server was passed over by `target_session_attrs`.
    pub(crate) fn server_role(message: impl Into<String>) -> Error {
        Error::new(Kind::ServerRole).with_message(message)
    }

    /// The error of a connect that tried several servers and failed on each: the last
    /// failure's kind and SQLSTATE (what a caller branches on), with a message listing every
    /// server tried and why it was passed over, in order. The last failure is the source.
    pub(crate) fn connect_attempts(attempts: Vec<(String, Error)>) -> Error {
        let count = attempts.len();
        let mut message = format!("could not connect to any of {count} servers tried:");
        let mut last = None;
        for (i, (server, error)) in attempts.into_iter().enumerate() {
            if let Some(previous) = last.replace(error) {
                message.push_str(&format!(": {previous};"));
            }
            message.push_str(&format!(" ({}) {server}", i + 1));
        }
        // Display appends the source, the last failure, after the last server's name.
        let Some(last) = last else {
            return Error::config("no host to connect to");
        };
        let mut error = Error::new(last.kind()).with_message(message);
        error.0.code = last.code().cloned();
        error.0.source = Some(Box::new(last));
        error
    }

    /// A statement's time limit passed and it was cancelled on the server: `Kind::Timeout`
    /// with SQLSTATE `57014`, as the server reports a cancelled statement.
    pub(crate) fn statement_timeout(message: impl Into<String>) -> Error {
        let mut e = Error::timeout(message);
        e.0.code = Some(SqlState::QUERY_CANCELED);
        e
    }

    pub(crate) fn row_count(message: impl Into<String>) -> Error {
        Error::new(Kind::RowCount).with_message(message)
    }

    pub(crate) fn usage(message: impl Into<String>) -> Error {
        Error::new(Kind::Usage).with_message(message)
    }

    /// A TLS failure described by `message` alone (a file that cannot be used, a setting
    /// rustls cannot honour).
    pub(crate) fn tls(message: impl Into<String>) -> Error {
        Error::new(Kind::Tls).with_message(message)
    }

    /// A TLS failure whose cause is kept as the source (a rustls or I/O error); `message` says
    /// what it means for the connection, so the source's own text is not repeated in it.
    pub(crate) fn tls_caused(message: impl Into<String>, source: impl Into<BoxError>) -> Error {
        Error::tls(message).with_source(source)
    }

    /// The local refusal of a statement inside an aborted transaction (SQLSTATE 25P02).
    pub(crate) fn aborted_transaction() -> Error {
        let mut e = Error::new(Kind::AbortedTransaction).with_message(
            "current transaction is aborted, commands ignored until end of transaction block: \
             roll back (or roll back to a savepoint) first; nothing was sent to the server",
        );
        e.0.code = Some(SqlState::IN_FAILED_SQL_TRANSACTION);
        e
    }

    /// A copy for a second recipient (errors own a boxed source, so they are not `Clone`):
    /// same kind, message, server error and SQLSTATE; the source is kept as its text.
    pub(crate) fn duplicate(&self) -> Error {
        let mut e = Error::new(self.0.kind);
        e.0.message = self.0.message.clone();
        e.0.conversion = self.0.conversion.clone();
        e.0.db = self.0.db.clone();
        e.0.code = self.0.code.clone();
        e.0.source = self
            .0
            .source
            .as_ref()
            .map(|s| BoxError::from(s.to_string()));
        e
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> Kind {
        self.0.kind
    }

    /// The SQLSTATE: the server's for a [`Kind::Db`] error, `25P02` for a locally refused
    /// statement in an aborted transaction, `57014` for a statement timeout (the statement was
    /// cancelled on the server), `None` otherwise (a connect timeout has [`Kind::Timeout`] and
    /// no SQLSTATE, so it is never taken for a cancelled statement).
    ///
    /// ```
    /// # fn check(err: &tusk::Error) -> bool {
    /// err.code().map(|s| s.code()) == Some("25P02")
    /// # }
    /// ```
    pub fn code(&self) -> Option<&SqlState> {
        self.0.code.as_ref()
    }

    /// Which value a [`Kind::Conversion`] error is about and the two types involved, to match
    /// on rather than parse the message.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// # let mut conn = tusk::Connection::connect(&url).await?;
    /// use tusk::ConvertedValue;
    /// let err = conn.query("SELECT $1::int4", &[&"seven"]).await.unwrap_err();
    /// let detail = err.as_conversion().unwrap();
    /// assert_eq!(detail.value, ConvertedValue::Parameter(1));
    /// assert_eq!((detail.sql_type.as_str(), detail.rust_type.as_str()), ("int4", "&str"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn as_conversion(&self) -> Option<&Conversion> {
        self.0.conversion.as_ref()
    }

    /// Every field of the server's ErrorResponse, when the server raised this error.
    pub fn as_db_error(&self) -> Option<&DbError> {
        self.0.db.as_ref()
    }

    /// Whether the connection is closed (by either side, or because the socket failed), so the
    /// connection this error came from can no longer be used.
    pub fn is_closed(&self) -> bool {
        match self.0.kind {
            Kind::Closed | Kind::Io => true,
            // FATAL and PANIC errors end the session. So does the WARNING an immediate
            // shutdown (57P01) or another backend's crash (57P02) sends just before closing:
            // the connection reports it as the reason its call failed, and a notice becomes an
            // error in no other way.
            Kind::Db => self.0.db.as_ref().is_some_and(|d| {
                matches!(d.severity.as_str(), "FATAL" | "PANIC")
                    || (d.severity == "WARNING" && matches!(d.code.code(), "57P01" | "57P02"))
            }),
            _ => false,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.0.kind);
        if let Some(m) = &self.0.message {
            d.field("message", m);
        }
        if let Some(db) = &self.0.db {
            d.field("db", db);
        } else if let Some(c) = &self.0.code {
            d.field("code", &c.code());
        }
        if let Some(s) = &self.0.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(db) = &self.0.db {
            return fmt::Display::fmt(db, f);
        }
        let what = match self.0.kind {
            Kind::Io => "I/O error",
            Kind::Protocol => "protocol error",
            Kind::Auth => "authentication error",
            Kind::Config => "invalid configuration",
            Kind::Conversion => "conversion error",
            Kind::Db => "database error",
            Kind::AbortedTransaction => "transaction aborted",
            Kind::Timeout => "timeout",
            Kind::Closed => "connection closed",
            Kind::RowCount => "unexpected number of rows",
            Kind::Usage => "invalid use",
            Kind::Tls => "TLS error",
            Kind::ServerRole => "unsuitable server",
        };
        f.write_str(what)?;
        if let Some(code) = &self.0.code {
            write!(f, " ({})", code.code())?;
        }
        if let Some(m) = &self.0.message {
            write!(f, ": {m}")?;
        }
        if let Some(s) = &self.0.source {
            write!(f, ": {s}")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl From<ProtoError> for Error {
    fn from(err: ProtoError) -> Error {
        Error::protocol(err)
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Error {
        Error::io(err)
    }
}

/// Every field of a server's ErrorResponse (or NoticeResponse), owned.
///
/// See the PostgreSQL documentation, "Error and Notice Message Fields". Fields the server did not
/// send are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DbError {
    /// `S`/`V`: ERROR, FATAL, PANIC (errors); WARNING, NOTICE, DEBUG, INFO, LOG (notices). The
    /// non-localized `V` form when the server sent it.
    pub severity: String,
    /// `C`: the SQLSTATE.
    pub code: SqlState,
    /// `M`: the primary message.
    pub message: String,
    /// `D`: an optional secondary message with more detail.
    pub detail: Option<String>,
    /// `H`: a suggestion what to do about it.
    pub hint: Option<String>,
    /// `P`: the 1-based character position in the query text.
    pub position: Option<u32>,
    /// `p`: the position in an internally generated query.
    pub internal_position: Option<u32>,
    /// `q`: the internally generated query.
    pub internal_query: Option<String>,
    /// `W`: the context: a call stack traceback of PL functions or internal queries.
    pub where_: Option<String>,
    /// `s`: schema name.
    pub schema: Option<String>,
    /// `t`: table name.
    pub table: Option<String>,
    /// `c`: column name.
    pub column: Option<String>,
    /// `d`: data type name.
    pub datatype: Option<String>,
    /// `n`: constraint name.
    pub constraint: Option<String>,
    /// `F`: the server source file that raised it.
    pub file: Option<String>,
    /// `L`: the line in that file.
    pub line: Option<u32>,
    /// `R`: the server routine that raised it.
    pub routine: Option<String>,
}

impl DbError {
    /// Builds an owned `DbError` from the fields of an ErrorResponse or NoticeResponse body.
    ///
    /// Unknown field codes are ignored, as the protocol asks. A missing severity, SQLSTATE or
    /// message is a protocol error: the server always sends them.
    pub fn from_fields(fields: &crate::proto::backend::ErrorFields) -> Result<DbError, ProtoError> {
        let mut severity = None;
        let mut severity_nonlocalized = None;
        let mut code = None;
        let mut message = None;
        let mut e = DbError {
            severity: String::new(),
            code: SqlState::INTERNAL_ERROR,
            message: String::new(),
            detail: None,
            hint: None,
            position: None,
            internal_position: None,
            internal_query: None,
            where_: None,
            schema: None,
            table: None,
            column: None,
            datatype: None,
            constraint: None,
            file: None,
            line: None,
            routine: None,
        };
        for field in fields.iter() {
            let (tag, value) = field?;
            let value = String::from_utf8_lossy(value).into_owned();
            let number = |v: &str| {
                v.parse::<u32>().map_err(|_| {
                    ProtoError::malformed(
                        "ErrorResponse",
                        format!("field {} is not a number: {v:?}", tag as char),
                    )
                })
            };
            match tag {
                b'S' => severity = Some(value),
                b'V' => severity_nonlocalized = Some(value),
                b'C' => code = Some(SqlState::from_code(&value)),
                b'M' => message = Some(value),
                b'D' => e.detail = Some(value),
                b'H' => e.hint = Some(value),
                b'P' => e.position = Some(number(&value)?),
                b'p' => e.internal_position = Some(number(&value)?),
                b'q' => e.internal_query = Some(value),
                b'W' => e.where_ = Some(value),
                b's' => e.schema = Some(value),
                b't' => e.table = Some(value),
                b'c' => e.column = Some(value),
                b'd' => e.datatype = Some(value),
                b'n' => e.constraint = Some(value),
                b'F' => e.file = Some(value),
                b'L' => e.line = Some(number(&value)?),
                b'R' => e.routine = Some(value),
                _ => {}
            }
        }
        e.severity = severity_nonlocalized
            .or(severity)
            .ok_or_else(|| ProtoError::malformed("ErrorResponse", "no severity field"))?;
        e.code = code.ok_or_else(|| ProtoError::malformed("ErrorResponse", "no SQLSTATE field"))?;
        e.message =
            message.ok_or_else(|| ProtoError::malformed("ErrorResponse", "no message field"))?;
        Ok(e)
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.severity,
            self.code.code(),
            self.message
        )?;
        if let Some(detail) = &self.detail {
            write!(f, "\nDETAIL: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nHINT: {hint}")?;
        }
        Ok(())
    }
}

impl StdError for DbError {}
