//! JSON text exactly as Go's `encoding/json` writes it, so that expected outputs recorded by
//! CockroachDB's runner (jackc/pgproto3's `MarshalJSON` through a `json.Encoder`) and by this one
//! are the same bytes: compact, fields in declaration order, and Go's string escaping.
//!
//! Go's escaping differs from most encoders in three ways that show up in scenario files: `<`,
//! `>` and `&` are written `\u003c`, `\u003e`, `\u0026` (HTML-safe by default); U+2028 and U+2029
//! are escaped; and each byte of invalid UTF-8 becomes `\ufffd`.

use std::fmt::{Display, Write};

/// A JSON object under construction: `{"Type":"...",` then fields in the order they are added.
#[derive(Debug)]
pub(crate) struct Object {
    out: String,
}

impl Object {
    /// An object whose first field is `"Type":type_name`, as pgproto3 writes every message.
    pub(crate) fn message(type_name: &str) -> Object {
        let mut object = Object::empty();
        object.str("Type", type_name);
        object
    }

    /// An object with no fields yet.
    pub(crate) fn empty() -> Object {
        Object {
            out: String::from("{"),
        }
    }

    fn key(&mut self, key: &str) {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        write_str(&mut self.out, key.as_bytes());
        self.out.push(':');
    }

    /// Adds a string field.
    pub(crate) fn str(&mut self, key: &str, value: &str) -> &mut Object {
        self.bytes_str(key, value.as_bytes())
    }

    /// Adds a string field from bytes that may not be UTF-8 (Go's `string(b)`).
    pub(crate) fn bytes_str(&mut self, key: &str, value: &[u8]) -> &mut Object {
        self.key(key);
        write_str(&mut self.out, value);
        self
    }

    /// Adds a number field.
    pub(crate) fn num(&mut self, key: &str, value: impl Display) -> &mut Object {
        self.key(key);
        // Writing to a String cannot fail.
        let _ = write!(self.out, "{value}");
        self
    }

    /// Adds a field whose value is already JSON text.
    pub(crate) fn raw(&mut self, key: &str, json: &str) -> &mut Object {
        self.key(key);
        self.out.push_str(json);
        self
    }

    /// Adds an array of numbers (`[]` when empty, as for a non-nil Go slice).
    pub(crate) fn nums<T: Display>(&mut self, key: &str, values: &[T]) -> &mut Object {
        let mut list = String::from("[");
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                list.push(',');
            }
            let _ = write!(list, "{value}");
        }
        list.push(']');
        self.raw(key, &list)
    }

    /// The finished object.
    pub(crate) fn finish(&mut self) -> String {
        let mut out = std::mem::take(&mut self.out);
        out.push('}');
        out
    }
}

/// Appends `bytes` as a JSON string, escaped as Go's `encoding/json` does with HTML escaping on.
pub(crate) fn write_str(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c if u32::from(c) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        for _ in chunk.invalid() {
            out.push_str("\\ufffd");
        }
    }
    out.push('"');
}

/// `bytes` as lowercase hexadecimal (Go's `hex.EncodeToString`).
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A column value as pgproto3 writes it in DataRow and FunctionCallResponse: `null` for SQL
/// NULL, `{"binary":"<hex>"}` when any byte is below 0x20 (a control character), else
/// `{"text":"..."}`. The choice looks at the bytes, not at the column's format: a binary int4
/// of 0x41424344 prints as `{"text":"ABCD"}`, as it does in CockroachDB's files.
///
/// One deviation (documented in the corpus README): bytes that are not UTF-8 are printed as
/// `{"binary":...}` too. pgproto3 prints them as text, where Go turns each invalid byte into
/// U+FFFD, so different values (int8 -1 and -2 in binary) would print the same.
pub(crate) fn value(bytes: Option<&[u8]>) -> String {
    match bytes {
        None => "null".to_owned(),
        Some(bytes) if bytes.iter().any(|&b| b < 0x20) || std::str::from_utf8(bytes).is_err() => {
            let mut object = Object::empty();
            object.str("binary", &hex(bytes));
            object.finish()
        }
        Some(bytes) => {
            let mut object = Object::empty();
            object.bytes_str("text", bytes);
            object.finish()
        }
    }
}
