//! Backend messages written out by hand, for the fake backend. Deliberately independent of
//! `tusk::proto` so that a bug in tusk's codec cannot hide itself in its own tests.

/// A tagged message: tag, big-endian length (counting itself), body.
pub fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn auth(code: i32, extra: &[u8]) -> Vec<u8> {
    let mut body = code.to_be_bytes().to_vec();
    body.extend_from_slice(extra);
    msg(b'R', &body)
}

/// AuthenticationOk.
pub fn auth_ok() -> Vec<u8> {
    auth(0, &[])
}

/// AuthenticationCleartextPassword.
pub fn auth_cleartext() -> Vec<u8> {
    auth(3, &[])
}

/// AuthenticationMD5Password with a salt.
pub fn auth_md5(salt: [u8; 4]) -> Vec<u8> {
    auth(5, &salt)
}

/// AuthenticationSASL listing mechanisms.
pub fn auth_sasl(mechanisms: &[&str]) -> Vec<u8> {
    let mut extra = Vec::new();
    for m in mechanisms {
        extra.extend_from_slice(m.as_bytes());
        extra.push(0);
    }
    extra.push(0);
    auth(10, &extra)
}

/// AuthenticationSASLContinue.
pub fn auth_sasl_continue(data: &[u8]) -> Vec<u8> {
    auth(11, data)
}

/// AuthenticationSASLFinal.
pub fn auth_sasl_final(data: &[u8]) -> Vec<u8> {
    auth(12, data)
}

/// An Authentication request with any code (for unsupported methods).
pub fn auth_code(code: i32) -> Vec<u8> {
    auth(code, &[])
}

/// ParameterStatus.
pub fn parameter_status(name: &str, value: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(name.as_bytes());
    body.push(0);
    body.extend_from_slice(value.as_bytes());
    body.push(0);
    msg(b'S', &body)
}

/// BackendKeyData.
pub fn backend_key(pid: i32, key: i32) -> Vec<u8> {
    let mut body = pid.to_be_bytes().to_vec();
    body.extend_from_slice(&key.to_be_bytes());
    msg(b'K', &body)
}

/// ReadyForQuery with a status byte (`I`, `T` or `E`).
pub fn ready(status: u8) -> Vec<u8> {
    msg(b'Z', &[status])
}

/// An ErrorResponse (or NoticeResponse with `tag = b'N'`) from `(code, value)` fields.
pub fn fields(tag: u8, fields: &[(u8, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (code, value) in fields {
        body.push(*code);
        body.extend_from_slice(value.as_bytes());
        body.push(0);
    }
    body.push(0);
    msg(tag, &body)
}

/// A FATAL ErrorResponse with a SQLSTATE and message.
pub fn fatal(code: &str, message: &str) -> Vec<u8> {
    fields(
        b'E',
        &[
            (b'S', "FATAL"),
            (b'V', "FATAL"),
            (b'C', code),
            (b'M', message),
        ],
    )
}

/// The usual tail of a successful startup: a couple of parameters, a key, ReadyForQuery.
pub fn startup_tail() -> Vec<u8> {
    [
        parameter_status("server_version", "15.99 (fake)"),
        parameter_status("client_encoding", "UTF8"),
        backend_key(4242, 777),
        ready(b'I'),
    ]
    .concat()
}

/// The reply to a simple Query returning one text column `name` with one row `value`:
/// RowDescription, DataRow, CommandComplete `SELECT 1`, ReadyForQuery idle.
pub fn one_value_reply(name: &str, value: &str) -> Vec<u8> {
    let mut description = 1i16.to_be_bytes().to_vec();
    description.extend_from_slice(name.as_bytes());
    description.push(0);
    description.extend_from_slice(&0i32.to_be_bytes()); // table OID
    description.extend_from_slice(&0i16.to_be_bytes()); // column number
    description.extend_from_slice(&25i32.to_be_bytes()); // text
    description.extend_from_slice(&(-1i16).to_be_bytes()); // variable length
    description.extend_from_slice(&(-1i32).to_be_bytes()); // no modifier
    description.extend_from_slice(&0i16.to_be_bytes()); // text format
    let mut row = 1i16.to_be_bytes().to_vec();
    row.extend_from_slice(&(value.len() as i32).to_be_bytes());
    row.extend_from_slice(value.as_bytes());
    [
        msg(b'T', &description),
        msg(b'D', &row),
        msg(b'C', b"SELECT 1\0"),
        ready(b'I'),
    ]
    .concat()
}
