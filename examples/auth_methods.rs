//! Connects to the throwaway test server once per authentication method (trust, cleartext
//! password, MD5, SCRAM-SHA-256) and over its Unix socket, printing the server version each
//! time.
//!
//! ```text
//! scripts/with-test-server cargo run --example auth_methods
//! ```

use tusk::{Config, Connection};

#[tokio::main]
async fn main() -> Result<(), tusk::Error> {
    let port: u16 = std::env::var("TUSK_PG_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(54329);
    let roles = [
        ("trust", "tusk_trust", ""),
        ("password (cleartext)", "tusk_password", "pw_password"),
        ("md5", "tusk_md5", "pw_md5"),
        ("scram-sha-256", "tusk_scram", "pw_scram"),
    ];
    for (method, user, password) in roles {
        let mut config = Config::new()
            .host("127.0.0.1")
            .port(port)
            .user(user)
            .dbname("tusk");
        if !password.is_empty() {
            config = config.password(password);
        }
        let conn = config.connect().await?;
        println!(
            "{method:<22} as {user:<14} -> PostgreSQL {}",
            conn.parameter("server_version").unwrap_or("?")
        );
        conn.close().await?;
    }
    if let Ok(dir) = std::env::var("TUSK_PG_SOCKET_DIR") {
        let conn = Connection::connect(&format!(
            "host={dir} port={port} user=tusk_scram password=pw_scram dbname=tusk"
        ))
        .await?;
        println!(
            "{:<22} as {:<14} -> PostgreSQL {}",
            "unix socket",
            "tusk_scram",
            conn.parameter("server_version").unwrap_or("?")
        );
        conn.close().await?;
    }
    let err = Connection::connect(&format!(
        "host=127.0.0.1 port={port} user=tusk_scram password=wrong dbname=tusk"
    ))
    .await
    .unwrap_err();
    println!("wrong password        -> {err}");
    Ok(())
}
