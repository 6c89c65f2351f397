//! Authentication policies against real servers: `require_auth` against every method the test
//! server offers, `channel_binding` over TLS and without it. A SCRAM-SHA-256-PLUS login that
//! succeeds is checked by the server itself: it refuses a proof computed over the wrong
//! channel binding data.

use protocol_tests::errors::{expect_db, expect_message};
use protocol_tests::live;
use tusk::{Connection, Kind, SqlState};

/// The roles of the plaintext server, one per method, with the `require_auth` name of what
/// the server asks them for.
const ROLES: [(&str, &str, &str); 4] = [
    ("tusk_trust", "unused", "none"),
    ("tusk_password", "pw_password", "password"),
    ("tusk_md5", "pw_md5", "md5"),
    ("tusk_scram", "pw_scram", "scram-sha-256"),
];

/// The require_auth matrix: each policy against each method; the method is accepted exactly
/// when the policy allows it, and a refusal names the requirement.
#[tokio::test]
async fn require_auth_against_every_method() {
    let policies: [(&str, &[&str]); 9] = [
        ("password", &["password"]),
        ("md5", &["md5"]),
        ("scram-sha-256", &["scram-sha-256"]),
        ("none", &["none"]),
        ("password,md5", &["password", "md5"]),
        ("!password", &["none", "md5", "scram-sha-256"]),
        ("!none", &["password", "md5", "scram-sha-256"]),
        ("!password,!md5", &["none", "scram-sha-256"]),
        ("gss,sspi", &[]),
    ];
    for (policy, allowed) in policies {
        for (user, password, method) in ROLES {
            let conn_str = format!("{} require_auth={policy}", live::tcp(user, password));
            let result = Connection::connect(&conn_str).await;
            if allowed.contains(&method) {
                let mut conn = result.unwrap_or_else(|e| panic!("{policy} / {user}: {e:?}"));
                conn.simple_query("SELECT 1").await.unwrap();
            } else {
                let err = result.expect_err(&format!("{policy} / {user} must be refused"));
                expect_message(&err, Kind::Auth, "authentication method requirement");
                assert!(
                    err.to_string().contains(policy.split(',').next().unwrap()),
                    "{policy} / {user}: {err}"
                );
                assert!(!err.to_string().contains(password), "{err}");
            }
        }
    }
}

#[tokio::test]
async fn require_auth_from_the_environment_style_setting_and_the_url() {
    let url = format!(
        "postgres://tusk_password:pw_password@127.0.0.1:{}/tusk?require_auth=scram-sha-256",
        live::port()
    );
    let err = Connection::connect(&url).await.unwrap_err();
    expect_message(&err, Kind::Auth, "cleartext password");
}

#[tokio::test]
async fn a_refused_role_is_still_the_servers_answer() {
    // The server refuses before asking for anything: that is what the caller sees.
    let conn_str = format!(
        "{} require_auth=scram-sha-256",
        live::tcp("tusk_reject", "x")
    );
    let err = Connection::connect(&conn_str).await.unwrap_err();
    expect_db(&err, &SqlState::INVALID_AUTHORIZATION_SPECIFICATION);
}

/// channel_binding=require over TLS: SCRAM-SHA-256-PLUS, which the server verifies against
/// its own certificate hash.
#[tokio::test]
async fn channel_binding_require_logs_in_over_tls() {
    let Some(tls) = live::tls() else { return };
    let ca = tls.file("ca.crt");
    for mode in ["require", "verify-full"] {
        let conn_str = format!(
            "{} sslmode={mode} sslrootcert={ca} channel_binding=require",
            tls.conn("localhost", "tusk_scram", "pw_scram")
        );
        let mut conn = Connection::connect(&conn_str)
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e:?}"));
        assert!(live::server_sees_tls(&mut conn).await);
    }
    for binding in ["prefer", "disable"] {
        let conn_str = format!(
            "{} sslmode=require channel_binding={binding}",
            tls.conn("localhost", "tusk_scram", "pw_scram")
        );
        Connection::connect(&conn_str)
            .await
            .unwrap_or_else(|e| panic!("{binding}: {e:?}"));
    }
}

#[tokio::test]
async fn channel_binding_require_without_tls_fails_before_any_proof() {
    // The main server has no TLS: prefer ends in plaintext, and SCRAM cannot be bound.
    let conn_str = format!(
        "{} channel_binding=require",
        live::tcp("tusk_scram", "pw_scram")
    );
    let err = Connection::connect(&conn_str).await.unwrap_err();
    expect_message(&err, Kind::Auth, "TLS");
    // With sslmode=disable it can never work: refused before connecting.
    let err = Connection::connect(&format!("{conn_str} sslmode=disable"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), Kind::Config, "{err:?}");
}

#[tokio::test]
async fn channel_binding_require_refuses_methods_without_binding() {
    let Some(tls) = live::tls() else { return };
    for (user, password) in [
        ("tusk_md5", "pw_md5"),
        ("tusk_password", "pw_password"),
        ("tusk_trust", "unused"),
    ] {
        let conn_str = format!(
            "{} sslmode=require channel_binding=require",
            tls.conn("localhost", user, password)
        );
        let err = Connection::connect(&conn_str).await.expect_err(user);
        expect_message(&err, Kind::Auth, "channel binding");
        assert!(!err.to_string().contains(password), "{err}");
    }
}
