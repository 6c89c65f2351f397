//! Backend messages as the JSON lines of a scenario's expected output, in jackc/pgproto3's
//! field names and order, filtered by the options of `until` / `receive` ([`Filters`]).
//!
//! What CockroachDB's runner prints is kept byte for byte, and so are its rules for the fields
//! that differ between servers: an ErrorResponse shows only its `Code` (plus `Message` with
//! `keepErrMessage`, and `ConstraintName` when there is one). Two messages are printed
//! differently, both documented in `protocol-tests/pgtest/README.md`:
//!
//! - NoticeResponse: pgproto3 has no `MarshalJSON` for it, so CockroachDB files show Go's
//!   default struct encoding (no `Type`, every field, source file and routine of the server).
//!   Here it is `{"Type":"NoticeResponse","Severity":...,"Code":...,"Message":...}` with
//!   `Detail` and `Hint` when present: what a scenario checks, nothing that changes between
//!   server builds.
//! - NotificationResponse: the notifying backend's `PID` changes every run; when it is this
//!   session's own process ID (from BackendKeyData) it is printed as 0. Any other PID is printed
//!   as it is, so a notification from elsewhere still fails the comparison.

use tusk::proto::backend::{Authentication, ErrorFields, Message};
use tusk::proto::ProtoError;

use super::gojson::{self, Object};
use super::script::Arg;

/// The backend message names `until`, `receive` and `ignore=` accept (pgproto3's type names).
pub const BACKEND_TYPES: &[&str] = &[
    "AuthenticationOk",
    "AuthenticationCleartextPassword",
    "AuthenticationMD5Password",
    "AuthenticationGSS",
    "AuthenticationGSSContinue",
    "AuthenticationSASL",
    "AuthenticationSASLContinue",
    "AuthenticationSASLFinal",
    "BackendKeyData",
    "BindComplete",
    "CloseComplete",
    "CommandComplete",
    "CopyBothResponse",
    "CopyData",
    "CopyDone",
    "CopyInResponse",
    "CopyOutResponse",
    "DataRow",
    "EmptyQueryResponse",
    "ErrorResponse",
    "FunctionCallResponse",
    "NegotiateProtocolVersion",
    "NoData",
    "NoticeResponse",
    "NotificationResponse",
    "ParameterDescription",
    "ParameterStatus",
    "ParseComplete",
    "PortalSuspended",
    "ReadyForQuery",
    "RowDescription",
];

/// Checks a backend message name given in a scenario.
pub fn check_type(name: &str) -> Result<(), String> {
    if BACKEND_TYPES.contains(&name) {
        Ok(())
    } else {
        Err(format!(
            "unknown backend message type {name:?} (known: {})",
            BACKEND_TYPES.join(", ")
        ))
    }
}

/// How the messages of one `until` or `receive` are printed: its options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// `keepErrMessage`: ErrorResponse keeps its `Message`.
    pub keep_err_message: bool,
    /// `ignore_table_oids`: RowDescription fields show `TableOID` 0.
    pub ignore_table_oids: bool,
    /// `ignore_type_oids`: RowDescription fields show `DataTypeOID` 0.
    pub ignore_type_oids: bool,
    /// `ignore_data_type_sizes`: RowDescription fields show `DataTypeSize` 0.
    pub ignore_data_type_sizes: bool,
    /// `ignore_constraint_name`: ErrorResponse drops its `ConstraintName`.
    pub ignore_constraint_name: bool,
    /// `ignore=Type` (repeatable, or `ignore=(A,B)`, or `ignore=A,B`): types left out.
    pub ignore: Vec<String>,
    /// `mapError=(from, to)`: an ErrorResponse code printed as another.
    pub map_error: Vec<(String, String)>,
    /// This session's backend process ID, printed as 0 in NotificationResponse.
    pub own_pid: Option<i32>,
}

impl Filters {
    /// Reads the options of an `until` or `receive` directive. `crdb_only` and `noncrdb_only`
    /// are the runner's and pass through; anything else unknown is an error.
    pub fn from_args(args: &[Arg]) -> Result<Filters, String> {
        let mut filters = Filters::default();
        for arg in args {
            let flag = |arg: &Arg| {
                if arg.vals.is_empty() {
                    Ok(true)
                } else {
                    Err(format!("{} takes no value", arg.key))
                }
            };
            match arg.key.as_str() {
                "crdb_only" | "noncrdb_only" => {
                    flag(arg)?;
                }
                "keepErrMessage" => filters.keep_err_message = flag(arg)?,
                "ignore_table_oids" => filters.ignore_table_oids = flag(arg)?,
                "ignore_type_oids" => filters.ignore_type_oids = flag(arg)?,
                "ignore_data_type_sizes" => filters.ignore_data_type_sizes = flag(arg)?,
                "ignore_constraint_name" => filters.ignore_constraint_name = flag(arg)?,
                "ignore" => {
                    if arg.vals.is_empty() {
                        return Err("ignore needs message types: ignore=RowDescription".into());
                    }
                    for name in arg.vals.iter().flat_map(|v| v.split(',')) {
                        let name = name.trim();
                        check_type(name)?;
                        filters.ignore.push(name.to_owned());
                    }
                }
                "mapError" => match arg.vals.as_slice() {
                    [from, to] => filters.map_error.push((from.clone(), to.clone())),
                    _ => return Err("mapError takes two codes: mapError=(42883, 42804)".into()),
                },
                other => {
                    return Err(format!(
                        "unknown option {other:?} (known: keepErrMessage, ignore=..., \
                         ignore_table_oids, ignore_type_oids, ignore_data_type_sizes, \
                         ignore_constraint_name, mapError=(from, to), crdb_only, noncrdb_only)"
                    ))
                }
            }
        }
        Ok(filters)
    }

    /// The message as one JSON line, or `None` when its type is ignored. A message whose body
    /// is malformed (a DataRow column running past its end, ...) is the decoder's error.
    pub fn to_json(&self, msg: &Message) -> Result<Option<String>, ProtoError> {
        if self.ignore.iter().any(|name| name == msg.name()) {
            return Ok(None);
        }
        let mut o = Object::message(msg.name());
        match msg {
            Message::Authentication(auth) => authentication(&mut o, auth),
            Message::BackendKeyData(key) => {
                o.num("ProcessID", key.process_id as u32);
                match <[u8; 4]>::try_from(&key.secret_key[..]) {
                    Ok(key) => o.num("SecretKey", u32::from_be_bytes(key)),
                    // Protocol 3.2's longer keys do not fit pgproto3's uint32.
                    Err(_) => o.str("SecretKey", &gojson::hex(&key.secret_key)),
                };
            }
            Message::BindComplete
            | Message::CloseComplete
            | Message::CopyDone
            | Message::EmptyQueryResponse
            | Message::NoData
            | Message::ParseComplete
            | Message::PortalSuspended => {}
            Message::CommandComplete(done) => {
                o.str("CommandTag", done.tag());
            }
            Message::CopyInResponse(copy)
            | Message::CopyOutResponse(copy)
            | Message::CopyBothResponse(copy) => {
                // pgproto3 writes the column formats only; the overall format is not shown.
                o.nums("ColumnFormatCodes", copy.column_formats());
            }
            Message::CopyData(data) => {
                o.str("Data", &gojson::hex(data));
            }
            Message::DataRow(row) => {
                // Grown per column actually present, not sized by the count the server sent.
                let mut values = Vec::new();
                for range in row.ranges() {
                    values.push(gojson::value(range?.map(|r| &row.buffer()[r])));
                }
                o.raw("Values", &format!("[{}]", values.join(",")));
            }
            Message::ErrorResponse(fields) => return Ok(Some(self.error(fields)?)),
            Message::NoticeResponse(fields) => notice(&mut o, fields)?,
            Message::FunctionCallResponse(result) => {
                o.raw("Result", &gojson::value(result.as_deref()));
            }
            Message::NegotiateProtocolVersion(negotiate) => {
                o.num("NewestMinorProtocol", negotiate.newest_minor as u32);
                let names: Vec<String> = negotiate
                    .unrecognized
                    .iter()
                    .map(|name| {
                        let mut out = String::new();
                        gojson::write_str(&mut out, name.as_bytes());
                        out
                    })
                    .collect();
                o.raw("UnrecognizedOptions", &format!("[{}]", names.join(",")));
            }
            Message::NotificationResponse(notification) => {
                let pid = if Some(notification.process_id) == self.own_pid {
                    0
                } else {
                    notification.process_id as u32
                };
                o.num("PID", pid)
                    .str("Channel", &notification.channel)
                    .str("Payload", &notification.payload);
            }
            Message::ParameterDescription(description) => {
                o.nums("ParameterOIDs", &description.types);
            }
            Message::ParameterStatus(status) => {
                o.str("Name", &status.name).str("Value", &status.value);
            }
            Message::ReadyForQuery(status) => {
                use tusk::proto::backend::TransactionStatus;
                o.str(
                    "TxStatus",
                    match status {
                        TransactionStatus::Idle => "I",
                        TransactionStatus::InTransaction => "T",
                        TransactionStatus::Failed => "E",
                    },
                );
            }
            Message::RowDescription(description) => {
                let mut fields = Vec::new();
                for field in description.fields() {
                    let field = field?;
                    let mut f = Object::empty();
                    f.str("Name", field.name)
                        .num(
                            "TableOID",
                            if self.ignore_table_oids {
                                0
                            } else {
                                field.table_oid
                            },
                        )
                        // pgproto3 reads the attribute number as a uint16.
                        .num("TableAttributeNumber", field.column_id as u16)
                        .num(
                            "DataTypeOID",
                            if self.ignore_type_oids {
                                0
                            } else {
                                field.type_oid
                            },
                        )
                        .num(
                            "DataTypeSize",
                            if self.ignore_data_type_sizes {
                                0
                            } else {
                                field.type_size
                            },
                        )
                        .num("TypeModifier", field.type_modifier)
                        .num("Format", field.format);
                    fields.push(f.finish());
                }
                o.raw("Fields", &format!("[{}]", fields.join(",")));
            }
        }
        Ok(Some(o.finish()))
    }

    /// ErrorResponse as CockroachDB's runner prints it: `Type`, `Code` (after `mapError`),
    /// `Message` only with `keepErrMessage`, `ConstraintName` when present.
    fn error(&self, fields: &ErrorFields) -> Result<String, ProtoError> {
        let field = |code: u8| -> Result<Vec<u8>, ProtoError> {
            for pair in fields.iter() {
                let (c, value) = pair?;
                if c == code {
                    return Ok(value.to_vec());
                }
            }
            Ok(Vec::new())
        };
        let code = String::from_utf8_lossy(&field(b'C')?).into_owned();
        let code = self
            .map_error
            .iter()
            .find(|(from, _)| *from == code)
            .map_or(code, |(_, to)| to.clone());
        let mut o = Object::message("ErrorResponse");
        o.str("Code", &code);
        let message = field(b'M')?;
        if self.keep_err_message && !message.is_empty() {
            o.bytes_str("Message", &message);
        }
        let constraint = field(b'n')?;
        if !self.ignore_constraint_name && !constraint.is_empty() {
            o.bytes_str("ConstraintName", &constraint);
        }
        Ok(o.finish())
    }
}

/// NoticeResponse's fields (see the module notes): severity, code, message, detail and hint.
fn notice(o: &mut Object, fields: &ErrorFields) -> Result<(), ProtoError> {
    let mut values: [Vec<u8>; 5] = Default::default();
    for pair in fields.iter() {
        let (code, value) = pair?;
        let slot = match code {
            b'S' => 0,
            b'C' => 1,
            b'M' => 2,
            b'D' => 3,
            b'H' => 4,
            _ => continue,
        };
        values[slot] = value.to_vec();
    }
    let [severity, code, message, detail, hint] = values;
    o.bytes_str("Severity", &severity)
        .bytes_str("Code", &code)
        .bytes_str("Message", &message);
    if !detail.is_empty() {
        o.bytes_str("Detail", &detail);
    }
    if !hint.is_empty() {
        o.bytes_str("Hint", &hint);
    }
    Ok(())
}

/// The fields pgproto3 shows for each authentication request.
fn authentication(o: &mut Object, auth: &Authentication) {
    match auth {
        Authentication::Md5Password { salt } => {
            o.nums("Salt", salt);
        }
        Authentication::Sasl { mechanisms } => {
            let names: Vec<String> = mechanisms
                .iter()
                .map(|name| {
                    let mut out = String::new();
                    gojson::write_str(&mut out, name.as_bytes());
                    out
                })
                .collect();
            o.raw("AuthMechanisms", &format!("[{}]", names.join(",")));
        }
        Authentication::SaslContinue(data)
        | Authentication::SaslFinal(data)
        | Authentication::GssContinue(data) => {
            o.bytes_str("Data", data);
        }
        _ => {}
    }
}

#[cfg(test)]
#[path = "backend_json_tests.rs"]
mod tests;
