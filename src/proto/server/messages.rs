//! [`FrontendMessage`]: every tagged message a client sends, decoded from a [`Frame`], and the
//! small ones with fixed layouts ([`Target`] for Close and Describe, [`Execute`]).

use bytes::Bytes;

use super::auth_response::AuthResponse;
use super::extended::{Bind, FunctionCall, Parse};
use super::text::Text;
use crate::proto::backend::reader::Reader;
use crate::proto::framing::Frame;
use crate::proto::ProtoError;

/// A decoded frontend message (everything a client sends after the startup packet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrontendMessage {
    /// `'B'`: bind parameters to a prepared statement, creating a portal.
    Bind(Bind),
    /// `'C'`: close a prepared statement or portal.
    Close(Target),
    /// `'d'`: a chunk of COPY FROM STDIN data.
    CopyData(Bytes),
    /// `'c'`: the COPY FROM STDIN data is complete.
    CopyDone,
    /// `'f'`: abort a COPY FROM STDIN, with the reason to report.
    CopyFail(Text),
    /// `'D'`: describe a prepared statement or portal.
    Describe(Target),
    /// `'E'`: run a portal.
    Execute(Execute),
    /// `'H'`: send what is buffered.
    Flush,
    /// `'F'`: call a function (the protocol's legacy fast path).
    FunctionCall(FunctionCall),
    /// `'p'`: an authentication response: PasswordMessage, SASLInitialResponse, SASLResponse
    /// or GSSResponse. They share the tag; only the authentication request the server sent
    /// tells which, so it is decoded as [`AuthResponse`] with a reading for each.
    AuthResponse(AuthResponse),
    /// `'P'`: prepare a statement.
    Parse(Parse),
    /// `'Q'`: a simple query: one or more SQL statements.
    Query(Text),
    /// `'S'`: end an extended-query batch; the server answers with ReadyForQuery.
    Sync,
    /// `'X'`: the client is closing the connection.
    Terminate,
}

impl FrontendMessage {
    /// Decodes one frame from [`split_frontend_frame`](crate::proto::framing::split_frontend_frame).
    ///
    /// A body that does not match the message's layout (a count larger than what follows, a
    /// value running past the end, bytes left over, a string without its NUL or not UTF-8) is
    /// [`ProtoError::Malformed`] naming the message; an unknown tag is
    /// [`ProtoError::UnknownFrontendTag`]. Nothing is allocated from a count the client sent.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use tusk::proto::framing::Frame;
    /// use tusk::proto::server::{FrontendMessage, Target};
    ///
    /// let frame = Frame { tag: b'C', body: Bytes::from_static(b"Sstmt_1\0") };
    /// let message = FrontendMessage::parse(frame)?;
    /// assert_eq!(message, FrontendMessage::Close(Target::Statement("stmt_1".into())));
    /// assert_eq!(message.name(), "Close");
    /// # Ok::<(), tusk::proto::ProtoError>(())
    /// ```
    pub fn parse(frame: Frame) -> Result<FrontendMessage, ProtoError> {
        let Frame { tag, body } = frame;
        Ok(match tag {
            b'B' => FrontendMessage::Bind(Bind::from_body(body)?),
            b'C' => FrontendMessage::Close(Target::parse("Close", &body)?),
            b'd' => FrontendMessage::CopyData(body),
            b'c' => empty(&body, "CopyDone", FrontendMessage::CopyDone)?,
            b'f' => FrontendMessage::CopyFail(one_string(&body, "CopyFail", "the reason")?),
            b'D' => FrontendMessage::Describe(Target::parse("Describe", &body)?),
            b'E' => FrontendMessage::Execute(Execute::parse(&body)?),
            b'H' => empty(&body, "Flush", FrontendMessage::Flush)?,
            b'F' => FrontendMessage::FunctionCall(FunctionCall::from_body(body)?),
            b'p' => FrontendMessage::AuthResponse(AuthResponse::new(body)),
            b'P' => FrontendMessage::Parse(Parse::from_body(body)?),
            b'Q' => FrontendMessage::Query(one_string(&body, "Query", "the query text")?),
            b'S' => empty(&body, "Sync", FrontendMessage::Sync)?,
            b'X' => empty(&body, "Terminate", FrontendMessage::Terminate)?,
            other => return Err(ProtoError::UnknownFrontendTag(other)),
        })
    }

    /// The message's name as in the protocol documentation, e.g. `"Bind"`. The authentication
    /// response is `"PasswordMessage"`, the name the documentation gives the tag it shares with
    /// SASLInitialResponse, SASLResponse and GSSResponse.
    pub fn name(&self) -> &'static str {
        match self {
            FrontendMessage::Bind(_) => "Bind",
            FrontendMessage::Close(_) => "Close",
            FrontendMessage::CopyData(_) => "CopyData",
            FrontendMessage::CopyDone => "CopyDone",
            FrontendMessage::CopyFail(_) => "CopyFail",
            FrontendMessage::Describe(_) => "Describe",
            FrontendMessage::Execute(_) => "Execute",
            FrontendMessage::Flush => "Flush",
            FrontendMessage::FunctionCall(_) => "FunctionCall",
            FrontendMessage::AuthResponse(_) => "PasswordMessage",
            FrontendMessage::Parse(_) => "Parse",
            FrontendMessage::Query(_) => "Query",
            FrontendMessage::Sync => "Sync",
            FrontendMessage::Terminate => "Terminate",
        }
    }

    /// The message's tag byte, e.g. `b'Q'` for Query.
    pub fn tag(&self) -> u8 {
        match self {
            FrontendMessage::Bind(_) => b'B',
            FrontendMessage::Close(_) => b'C',
            FrontendMessage::CopyData(_) => b'd',
            FrontendMessage::CopyDone => b'c',
            FrontendMessage::CopyFail(_) => b'f',
            FrontendMessage::Describe(_) => b'D',
            FrontendMessage::Execute(_) => b'E',
            FrontendMessage::Flush => b'H',
            FrontendMessage::FunctionCall(_) => b'F',
            FrontendMessage::AuthResponse(_) => b'p',
            FrontendMessage::Parse(_) => b'P',
            FrontendMessage::Query(_) => b'Q',
            FrontendMessage::Sync => b'S',
            FrontendMessage::Terminate => b'X',
        }
    }
}

/// Checks that a message without contents has an empty body.
fn empty(
    body: &Bytes,
    name: &'static str,
    message: FrontendMessage,
) -> Result<FrontendMessage, ProtoError> {
    Reader::new(name, body).finish()?;
    Ok(message)
}

/// Decodes a body that is exactly one NUL-terminated string.
fn one_string(body: &Bytes, message: &'static str, what: &str) -> Result<Text, ProtoError> {
    let mut r = Reader::new(message, body);
    let text = Text::read(&mut r, body, what)?;
    r.finish()?;
    Ok(text)
}

/// What a Close or Describe names: a prepared statement (`'S'`) or a portal (`'P'`); the empty
/// name is the unnamed one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A prepared statement.
    Statement(Text),
    /// A portal.
    Portal(Text),
}

impl Target {
    /// Decodes the body of a Close or Describe (`message`): the kind byte, then the name.
    fn parse(message: &'static str, body: &Bytes) -> Result<Target, ProtoError> {
        let mut r = Reader::new(message, body);
        let kind = r.u8("the kind of object")?;
        let target = match kind {
            b'S' => Target::Statement(Text::read(&mut r, body, "the statement name")?),
            b'P' => Target::Portal(Text::read(&mut r, body, "the portal name")?),
            other => {
                return Err(r.error(format!(
                    "unknown kind of object 0x{other:02x} (expected 'S' or 'P')"
                )))
            }
        };
        r.finish()?;
        Ok(target)
    }

    /// The statement's or portal's name.
    pub fn name(&self) -> &Text {
        match self {
            Target::Statement(name) | Target::Portal(name) => name,
        }
    }
}

/// Execute: run a portal, returning at most `max_rows` rows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Execute {
    /// The portal; the empty name is the unnamed portal.
    pub portal: Text,
    /// The row limit; 0 means no limit. PostgreSQL treats a negative limit as no limit too, so
    /// it is passed through as sent.
    pub max_rows: i32,
}

impl Execute {
    fn parse(body: &Bytes) -> Result<Execute, ProtoError> {
        let mut r = Reader::new("Execute", body);
        let portal = Text::read(&mut r, body, "the portal name")?;
        let max_rows = r.i32("the row limit")?;
        r.finish()?;
        Ok(Execute { portal, max_rows })
    }
}
