//! Frontend messages checked byte for byte against what libpq really sends.
//!
//! Where these bytes came from: a throwaway PostgreSQL 15.x cluster
//! (`initdb -A trust`, then `pg_ctl -o "-p 55499 -k /tmp -c listen_addresses=127.0.0.1"`), with
//! a small logging TCP proxy on 127.0.0.1:55500 recording everything the client sent. The
//! clients were the `psql` and `pgbench` of PostgreSQL 15 (libpq 15), run as:
//!
//! - `psql "host=127.0.0.1 port=55500 user=postgres dbname=postgres sslmode=disable
//!   gssencmode=disable application_name=tusk" -c "SELECT 1"`
//! - the same with `sslmode=prefer` (against a server without TLS, so it answered `N`)
//! - `pgbench -n -M extended -t 1 -f s.sql "host=127.0.0.1 port=55500 user=postgres
//!   dbname=postgres sslmode=disable gssencmode=disable"` with `s.sql` being
//!   `\set x 42` and `SELECT :x::int4;`
//! - `psql ... -c "COPY t FROM STDIN"` with two lines on stdin, after switching the server's
//!   `host` lines in pg_hba.conf to `password` and giving `postgres` the password `secret`.
//!
//! Each test encodes the same conversation with `tusk::proto::frontend` and compares the
//! whole byte stream. The captures are written one message per line.

use bytes::{BufMut, BytesMut};
use tusk::proto::{frontend, IsNull};

/// The StartupMessage psql sent for `user=postgres dbname=postgres application_name=tusk`.
const PSQL_STARTUP: &[u8] = b"\x00\x00\x00\x3f\x00\x03\x00\x00\
user\x00postgres\x00database\x00postgres\x00application_name\x00tusk\x00\x00";

/// libpq's parameter order: user, database, then application_name.
const PSQL_PARAMS: [(&str, &str); 3] = [
    ("user", "postgres"),
    ("database", "postgres"),
    ("application_name", "tusk"),
];

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn psql_simple_query_session() {
    // Captured from `psql ... -c "SELECT 1"` (sslmode=disable): StartupMessage, Query, Terminate.
    let captured = concat(&[
        PSQL_STARTUP,
        b"Q\x00\x00\x00\x0dSELECT 1\x00",
        b"X\x00\x00\x00\x04",
    ]);

    let mut buf = BytesMut::new();
    frontend::startup_message(PSQL_PARAMS, &mut buf).unwrap();
    frontend::query("SELECT 1", &mut buf).unwrap();
    frontend::terminate(&mut buf);
    assert_eq!(&buf[..], &captured[..]);
}

#[test]
fn psql_ssl_request_before_startup() {
    // Captured from psql with sslmode=prefer: SSLRequest first, then (after the server's `N`)
    // the same StartupMessage on the same connection.
    let captured = concat(&[b"\x00\x00\x00\x08\x04\xd2\x16\x2f", PSQL_STARTUP]);

    let mut buf = BytesMut::new();
    frontend::ssl_request(&mut buf);
    frontend::startup_message(PSQL_PARAMS, &mut buf).unwrap();
    assert_eq!(&buf[..], &captured[..]);
}

#[test]
fn pgbench_extended_query_session() {
    // Captured from `pgbench -M extended`: the unnamed statement and portal, one text
    // parameter, and one result format code (text) given explicitly.
    let captured = concat(&[
        b"\x00\x00\x00\x42\x00\x03\x00\x00\
user\x00postgres\x00database\x00postgres\x00application_name\x00pgbench\x00\x00",
        b"P\x00\x00\x00\x18\x00SELECT $1::int4;\x00\x00\x00",
        b"B\x00\x00\x00\x14\x00\x00\x00\x00\x00\x01\x00\x00\x00\x0242\x00\x01\x00\x00",
        b"D\x00\x00\x00\x06P\x00",
        b"E\x00\x00\x00\x09\x00\x00\x00\x00\x00",
        b"S\x00\x00\x00\x04",
        b"X\x00\x00\x00\x04",
    ]);

    let mut buf = BytesMut::new();
    let params = [
        ("user", "postgres"),
        ("database", "postgres"),
        ("application_name", "pgbench"),
    ];
    frontend::startup_message(params, &mut buf).unwrap();
    frontend::parse("", "SELECT $1::int4;", [], &mut buf).unwrap();
    frontend::bind(
        "",
        "",
        &[],
        ["42"],
        |text: &str, buf: &mut BytesMut| {
            buf.put_slice(text.as_bytes());
            Ok::<_, std::convert::Infallible>(IsNull::No)
        },
        &[0],
        &mut buf,
    )
    .unwrap();
    frontend::describe_portal("", &mut buf).unwrap();
    frontend::execute("", 0, &mut buf).unwrap();
    frontend::sync(&mut buf);
    frontend::terminate(&mut buf);
    assert_eq!(&buf[..], &captured[..]);
}

#[test]
fn psql_password_and_copy_from_stdin_session() {
    // Captured from `psql ... -c "COPY t FROM STDIN"` with password authentication and the
    // input "1\tx\n2\ty\n": psql sent all of stdin in one CopyData.
    let captured = concat(&[
        PSQL_STARTUP,
        b"p\x00\x00\x00\x0bsecret\x00",
        b"Q\x00\x00\x00\x16COPY t FROM STDIN\x00",
        b"d\x00\x00\x00\x0c1\tx\n2\ty\n",
        b"c\x00\x00\x00\x04",
        b"X\x00\x00\x00\x04",
    ]);

    let mut buf = BytesMut::new();
    frontend::startup_message(PSQL_PARAMS, &mut buf).unwrap();
    frontend::password_message(b"secret", &mut buf).unwrap();
    frontend::query("COPY t FROM STDIN", &mut buf).unwrap();
    frontend::copy_data(b"1\tx\n2\ty\n", &mut buf).unwrap();
    frontend::copy_done(&mut buf);
    frontend::terminate(&mut buf);
    assert_eq!(&buf[..], &captured[..]);

    // The header-only form produces the same CopyData.
    let mut split = BytesMut::new();
    frontend::copy_data_header(8, &mut split).unwrap();
    split.put_slice(b"1\tx\n2\ty\n");
    assert_eq!(&split[..], b"d\x00\x00\x00\x0c1\tx\n2\ty\n");
}
