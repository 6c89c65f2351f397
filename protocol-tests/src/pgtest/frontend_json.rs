//! The `send` lines of a scenario: a frontend message named as jackc/pgproto3 names it, with its
//! fields as JSON, turned into a [`Frontend`] and encoded with `tusk::proto::frontend`.
//!
//! A line is `Type`, `Type {json}` (CockroachDB's form) or `{"Type":"...", ...}` (the form
//! pgproto3's `MarshalJSON` writes). Field names are pgproto3's; a missing field takes Go's zero
//! value, an unknown one is refused (a misspelt field would otherwise be silently zero).
//!
//! | Type | fields |
//! |---|---|
//! | `Query` | `String` |
//! | `Parse` | `Name`, `Query`, `ParameterOIDs` |
//! | `Bind` | `DestinationPortal`, `PreparedStatement`, `ParameterFormatCodes`, `Parameters` (each `{"text":"..."}`, `{"binary":"<hex>"}` or `null`), `ResultFormatCodes` |
//! | `Describe`, `Close` | `ObjectType` (`"S"` or `"P"`, or the byte as a number: 83, 80), `Name` |
//! | `Execute` | `Portal`, `MaxRows` |
//! | `CopyData` | `Data` (the bytes of the string) or `BinaryData` (base64) |
//! | `CopyFail` | `Message` |
//! | `FunctionCall` | `Function` (OID), `ArgFormatCodes`, `Arguments` (as Bind's `Parameters`, or base64 strings), `ResultFormatCode` |
//! | `Sync`, `Flush`, `CopyDone`, `Terminate` | none |

use base64::Engine as _;
use bytes::{BufMut, BytesMut};
use serde_json::{Map, Value};
use tusk::proto::{frontend, IsNull, ProtoError};

/// Whether a Describe or Close names a prepared statement or a portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `'S'`: a prepared statement.
    Statement,
    /// `'P'`: a portal.
    Portal,
}

/// A frontend message of the query phase, as a scenario describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frontend {
    /// Simple query.
    Query {
        /// The SQL text.
        sql: String,
    },
    /// Prepare a statement.
    Parse {
        /// The statement name (`""`: unnamed).
        name: String,
        /// The SQL text.
        query: String,
        /// Parameter type OIDs (0: let the server infer).
        param_oids: Vec<u32>,
    },
    /// Bind parameters to a statement, creating a portal.
    Bind {
        /// The portal name (`""`: unnamed).
        portal: String,
        /// The statement name.
        statement: String,
        /// Parameter format codes (0 text, 1 binary).
        param_formats: Vec<i16>,
        /// Parameter values; `None` is NULL.
        params: Vec<Option<Vec<u8>>>,
        /// Result column format codes.
        result_formats: Vec<i16>,
    },
    /// Describe a statement or portal.
    Describe {
        /// Statement or portal.
        target: Target,
        /// Its name.
        name: String,
    },
    /// Run a portal.
    Execute {
        /// The portal name.
        portal: String,
        /// At most this many rows (0: all).
        max_rows: i32,
    },
    /// Close a statement or portal.
    Close {
        /// Statement or portal.
        target: Target,
        /// Its name.
        name: String,
    },
    /// End an extended-query batch.
    Sync,
    /// Ask for buffered output.
    Flush,
    /// A chunk of COPY FROM STDIN data.
    CopyData(Vec<u8>),
    /// End of COPY FROM STDIN data.
    CopyDone,
    /// Abort COPY FROM STDIN.
    CopyFail {
        /// The reason, quoted in the server's error.
        message: String,
    },
    /// Call a function by OID (the protocol's fast-path call).
    FunctionCall {
        /// The function's OID.
        function: u32,
        /// Argument format codes.
        arg_formats: Vec<i16>,
        /// Argument values; `None` is NULL.
        args: Vec<Option<Vec<u8>>>,
        /// The result's format code.
        result_format: i16,
    },
    /// End the session.
    Terminate,
}

impl Frontend {
    /// Parses one `send` line.
    ///
    /// ```
    /// use protocol_tests::pgtest::frontend_json::Frontend;
    ///
    /// let message = Frontend::parse_line(r#"Execute {"Portal": "p", "MaxRows": 2}"#)?;
    /// assert_eq!(message, Frontend::Execute { portal: "p".into(), max_rows: 2 });
    /// assert_eq!(Frontend::parse_line(r#"{"Type":"Sync"}"#)?, Frontend::Sync);
    /// # Ok::<(), String>(())
    /// ```
    pub fn parse_line(line: &str) -> Result<Frontend, String> {
        let line = line.trim();
        let (type_name, mut fields) = if line.starts_with('{') {
            let mut fields = object(line)?;
            let type_name = match fields.remove("Type") {
                Some(Value::String(name)) => name,
                Some(other) => return Err(format!("\"Type\" must be a string, not {other}")),
                None => return Err(format!("no \"Type\" field in {line}")),
            };
            (type_name, Fields::new(fields))
        } else {
            let (type_name, json) = line.split_once(' ').unwrap_or((line, ""));
            let fields = if json.trim().is_empty() {
                Map::new()
            } else {
                object(json)?
            };
            (type_name.to_owned(), Fields::new(fields))
        };
        let message = match type_name.as_str() {
            "Query" => Frontend::Query {
                sql: fields.string("String")?,
            },
            "Parse" => Frontend::Parse {
                name: fields.string("Name")?,
                query: fields.string("Query")?,
                param_oids: fields.numbers("ParameterOIDs")?,
            },
            "Bind" => Frontend::Bind {
                portal: fields.string("DestinationPortal")?,
                statement: fields.string("PreparedStatement")?,
                param_formats: fields.numbers("ParameterFormatCodes")?,
                params: fields.values("Parameters", false)?,
                result_formats: fields.numbers("ResultFormatCodes")?,
            },
            "Describe" => Frontend::Describe {
                target: fields.target()?,
                name: fields.string("Name")?,
            },
            "Close" => Frontend::Close {
                target: fields.target()?,
                name: fields.string("Name")?,
            },
            "Execute" => Frontend::Execute {
                portal: fields.string("Portal")?,
                max_rows: fields.number("MaxRows")?,
            },
            "Sync" => Frontend::Sync,
            "Flush" => Frontend::Flush,
            "CopyDone" => Frontend::CopyDone,
            "Terminate" => Frontend::Terminate,
            "CopyData" => {
                let text = fields.optional_string("Data")?;
                let binary = fields.optional_string("BinaryData")?;
                Frontend::CopyData(match (text, binary) {
                    (Some(_), Some(_)) => {
                        return Err("CopyData takes Data or BinaryData, not both".into())
                    }
                    (_, Some(base64)) => decode_base64("BinaryData", &base64)?,
                    (text, None) => text.unwrap_or_default().into_bytes(),
                })
            }
            "CopyFail" => Frontend::CopyFail {
                message: fields.string("Message")?,
            },
            "FunctionCall" => Frontend::FunctionCall {
                function: fields.number("Function")?,
                arg_formats: fields.numbers("ArgFormatCodes")?,
                args: fields.values("Arguments", true)?,
                result_format: fields.number("ResultFormatCode")?,
            },
            other => {
                return Err(format!(
                    "unknown frontend message type {other:?} (known: Query, Parse, Bind, \
                     Describe, Execute, Close, Sync, Flush, CopyData, CopyDone, CopyFail, \
                     FunctionCall, Terminate)"
                ))
            }
        };
        fields.finish(&type_name)?;
        Ok(message)
    }

    /// Appends the message's bytes to `buf` (nothing on error).
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use protocol_tests::pgtest::frontend_json::Frontend;
    ///
    /// let mut buf = BytesMut::new();
    /// Frontend::Query { sql: "SELECT 1".into() }.encode(&mut buf)?;
    /// assert_eq!(&buf[..], b"Q\0\0\0\x0dSELECT 1\0");
    /// # Ok::<(), tusk::proto::ProtoError>(())
    /// ```
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), ProtoError> {
        match self {
            Frontend::Query { sql } => frontend::query(sql, buf),
            Frontend::Parse {
                name,
                query,
                param_oids,
            } => frontend::parse(name, query, param_oids.iter().copied(), buf),
            Frontend::Bind {
                portal,
                statement,
                param_formats,
                params,
                result_formats,
            } => frontend::bind(
                portal,
                statement,
                param_formats,
                params.iter().map(Option::as_deref),
                |value, buf| {
                    Ok::<_, std::convert::Infallible>(match value {
                        Some(bytes) => {
                            buf.put_slice(bytes);
                            IsNull::No
                        }
                        None => IsNull::Yes,
                    })
                },
                result_formats,
                buf,
            )
            .map_err(|error| match error {
                frontend::BindError::Proto(error) => error,
                // The closure above never fails.
                frontend::BindError::Param { error, .. } => match error {},
            }),
            Frontend::Describe {
                target: Target::Statement,
                name,
            } => frontend::describe_statement(name, buf),
            Frontend::Describe {
                target: Target::Portal,
                name,
            } => frontend::describe_portal(name, buf),
            Frontend::Execute { portal, max_rows } => frontend::execute(portal, *max_rows, buf),
            Frontend::Close {
                target: Target::Statement,
                name,
            } => frontend::close_statement(name, buf),
            Frontend::Close {
                target: Target::Portal,
                name,
            } => frontend::close_portal(name, buf),
            Frontend::Sync => {
                frontend::sync(buf);
                Ok(())
            }
            Frontend::Flush => {
                frontend::flush(buf);
                Ok(())
            }
            Frontend::CopyData(data) => frontend::copy_data(data, buf),
            Frontend::CopyDone => {
                frontend::copy_done(buf);
                Ok(())
            }
            Frontend::CopyFail { message } => frontend::copy_fail(message, buf),
            Frontend::FunctionCall {
                function,
                arg_formats,
                args,
                result_format,
            } => frontend::function_call(
                *function,
                arg_formats,
                args.iter().map(Option::as_deref),
                *result_format,
                buf,
            ),
            Frontend::Terminate => {
                frontend::terminate(buf);
                Ok(())
            }
        }
    }
}

fn object(json: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!("expected a JSON object, found {other}")),
        Err(e) => Err(format!("invalid JSON {json:?}: {e}")),
    }
}

/// The fields of one message's JSON object, taken one by one; what is left is unknown.
struct Fields(Map<String, Value>);

impl Fields {
    fn new(map: Map<String, Value>) -> Fields {
        Fields(map)
    }

    /// A field Go would decode into `T`: absent or `null` is the zero value.
    fn take(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name).filter(|value| !value.is_null())
    }

    fn optional_string(&mut self, name: &str) -> Result<Option<String>, String> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!("{name} must be a string, not {other}")),
        }
    }

    fn string(&mut self, name: &str) -> Result<String, String> {
        Ok(self.optional_string(name)?.unwrap_or_default())
    }

    fn number<T: TryFrom<i64> + Default>(&mut self, name: &str) -> Result<T, String> {
        match self.take(name) {
            None => Ok(T::default()),
            Some(value) => to_number(name, &value),
        }
    }

    fn numbers<T: TryFrom<i64>>(&mut self, name: &str) -> Result<Vec<T>, String> {
        match self.take(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| to_number(&format!("{name}[{i}]"), item))
                .collect(),
            Some(other) => Err(format!("{name} must be an array of numbers, not {other}")),
        }
    }

    /// `ObjectType`: `"S"`/`"P"` (pgproto3 v2) or the byte as a number (older files: 83/80).
    fn target(&mut self) -> Result<Target, String> {
        match self.take("ObjectType") {
            Some(Value::String(s)) if s == "S" => Ok(Target::Statement),
            Some(Value::String(s)) if s == "P" => Ok(Target::Portal),
            Some(Value::Number(n)) if n.as_u64() == Some(u64::from(b'S')) => Ok(Target::Statement),
            Some(Value::Number(n)) if n.as_u64() == Some(u64::from(b'P')) => Ok(Target::Portal),
            Some(other) => Err(format!(
                "ObjectType must be \"S\" (statement) or \"P\" (portal), not {other}"
            )),
            None => Err("ObjectType is missing: \"S\" (statement) or \"P\" (portal)".into()),
        }
    }

    /// Parameter or argument values: `{"text":..}`, `{"binary":hex}` or `null`; with
    /// `base64_strings` a bare string is base64 (Go's encoding of `[][]byte`).
    fn values(&mut self, name: &str, base64_strings: bool) -> Result<Vec<Option<Vec<u8>>>, String> {
        let items = match self.take(name) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(other) => return Err(format!("{name} must be an array, not {other}")),
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let what = format!("{name}[{i}]");
                match item {
                    Value::Null => Ok(None),
                    Value::String(s) if base64_strings => decode_base64(&what, s).map(Some),
                    Value::Object(value) => match (value.get("text"), value.get("binary")) {
                        (Some(Value::String(text)), None) if value.len() == 1 => {
                            Ok(Some(text.clone().into_bytes()))
                        }
                        (None, Some(Value::String(hex))) if value.len() == 1 => {
                            decode_hex(&what, hex).map(Some)
                        }
                        _ => Err(format!(
                            "{what} must be {{\"text\":\"...\"}} or {{\"binary\":\"<hex>\"}}, not \
                             {item}"
                        )),
                    },
                    other => Err(format!(
                        "{what} must be {{\"text\":\"...\"}}, {{\"binary\":\"<hex>\"}} or null, \
                         not {other}"
                    )),
                }
            })
            .collect()
    }

    fn finish(self, type_name: &str) -> Result<(), String> {
        match self.0.keys().next() {
            None => Ok(()),
            Some(key) => Err(format!("{type_name} has no field {key:?}")),
        }
    }
}

fn to_number<T: TryFrom<i64>>(name: &str, value: &Value) -> Result<T, String> {
    value
        .as_i64()
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| {
            format!(
                "{name} must be an integer in the range of its protocol field, not {value} \
                 ({})",
                std::any::type_name::<T>()
            )
        })
}

fn decode_hex(what: &str, hex: &str) -> Result<Vec<u8>, String> {
    let digits = hex.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("{what}: odd number of hex digits in {hex:?}"));
    }
    digits
        .chunks(2)
        .map(|pair| {
            // Digits only: from_str_radix alone would take a sign ("+f").
            std::str::from_utf8(pair)
                .ok()
                .filter(|pair| pair.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("{what}: {hex:?} is not hexadecimal"))
        })
        .collect()
}

fn decode_base64(what: &str, text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("{what}: {text:?} is not base64: {e}"))
}

#[cfg(test)]
#[path = "frontend_json_tests.rs"]
mod tests;
