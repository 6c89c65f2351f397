//! Connecting each driver to the benchmark server, with the same settings for all: TCP to the
//! same address, no TLS (and no SSLRequest), password authentication (SCRAM-SHA-256 on the
//! test server), statement logging off where a driver has it.
//!
//! Or, for the TLS workloads (W1s, W4s), all three over TLS to scripts/test-server's TLS server
//! with libpq's `sslmode=verify-full` semantics: host name `localhost` (the name on the server's
//! certificate), the test CA as the only root, rustls with the ring provider and its default
//! protocol versions (TLS 1.3 is negotiated) for every driver:
//! - tusk: `ssl_mode(VerifyFull)` and `ssl_root_cert(RootCert::File(ca))`;
//! - tokio-postgres: `tokio_postgres_rustls::MakeRustlsConnect` over a rustls `ClientConfig`
//!   with the CA as its root store (rustls' WebPKI verifier checks the chain and the name, which
//!   is verify-full; tokio-postgres's own sslmode only says whether TLS is required);
//! - sqlx: `PgSslMode::VerifyFull` and `ssl_root_cert(ca)`.
//!
//! Channel binding is off for all three: sqlx has none, while tusk and tokio-postgres would do
//! SCRAM-SHA-256-PLUS over TLS by default. It only changes the authentication exchange, which
//! W1s and W4s do not measure, but it keeps the three connections set up alike.
//! [`Target::connect_all`] checks on the server (`pg_stat_ssl`) that every connection is on TLS
//! with the same protocol version and cipher, from the same client address.

use std::path::PathBuf;
use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection as _, PgConnection, Row as _};
use tokio::task::JoinHandle;
use tokio_postgres::NoTls;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::BoxError;

/// What a connection reports about itself on the server: whether it is on TLS, the protocol
/// version, the cipher and the client's address.
pub const TLS_CHECK: &str = "SELECT s.ssl, coalesce(s.version, ''), coalesce(s.cipher, ''), \
     coalesce(host(a.client_addr), '') FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
     WHERE s.pid = pg_backend_pid()";

/// The TLS side of a [`Target`]: the CA file that signs the server's certificate, and the
/// rustls client configuration tokio-postgres uses (built once from it).
#[derive(Clone)]
pub struct Tls {
    pub ca: PathBuf,
    tokio_postgres: MakeRustlsConnect,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("ca", &self.ca).finish()
    }
}

impl Tls {
    /// Reads the CA file and builds tokio-postgres's rustls configuration: the ring provider,
    /// rustls' safe default protocol versions (1.3 and 1.2), the CA as the only root.
    pub fn new(ca: PathBuf) -> Result<Tls, BoxError> {
        use rustls::pki_types::pem::PemObject as _;
        use rustls::pki_types::CertificateDer;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(&ca)
            .map_err(|e| format!("reading the CA file {}: {e}", ca.display()))?
        {
            roots.add(cert.map_err(|e| format!("the CA file {}: {e}", ca.display()))?)?;
        }
        if roots.is_empty() {
            return Err(format!("no certificate in the CA file {}", ca.display()).into());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Tls {
            ca,
            tokio_postgres: MakeRustlsConnect::new(config),
        })
    }
}

/// Where the server is and whom to connect as.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub dbname: String,
    pub user: String,
    pub password: String,
    /// `Some` to connect over TLS with verify-full (then `host` is the certificate's name).
    pub tls: Option<Tls>,
}

impl Target {
    /// The same server as another role (W6 logs in as the SCRAM role).
    pub fn as_role(&self, user: &str, password: &str) -> Target {
        Target {
            user: user.into(),
            password: password.into(),
            ..self.clone()
        }
    }

    pub fn tusk(&self) -> tusk::Config {
        let config = tusk::Config::new()
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(&self.dbname);
        match &self.tls {
            None => config.ssl_mode(tusk::SslMode::Disable),
            Some(tls) => config
                .ssl_mode(tusk::SslMode::VerifyFull)
                .ssl_root_cert(tusk::RootCert::File(tls.ca.clone()))
                .channel_binding(tusk::proto::auth::ChannelBinding::Disable),
        }
    }

    pub fn tokio_postgres(&self) -> tokio_postgres::Config {
        use tokio_postgres::config::{ChannelBinding, SslMode};
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(&self.dbname);
        match &self.tls {
            None => config.ssl_mode(SslMode::Disable),
            // The verification is the rustls configuration's (see `Tls`).
            Some(_) => config
                .ssl_mode(SslMode::Require)
                .channel_binding(ChannelBinding::Disable),
        };
        config
    }

    pub fn sqlx(&self) -> PgConnectOptions {
        let options = PgConnectOptions::new()
            .host(&self.host)
            .port(self.port)
            .username(&self.user)
            .password(&self.password)
            .database(&self.dbname)
            .disable_statement_logging();
        match &self.tls {
            None => options.ssl_mode(PgSslMode::Disable),
            Some(tls) => options
                .ssl_mode(PgSslMode::VerifyFull)
                .ssl_root_cert(&tls.ca),
        }
    }

    /// Connects tokio-postgres with this target's TLS, if any.
    pub async fn tokio_postgres_connect(
        &self,
        config: &tokio_postgres::Config,
    ) -> Result<TokioPostgres, BoxError> {
        match &self.tls {
            None => TokioPostgres::connect(config, NoTls).await,
            Some(tls) => TokioPostgres::connect(config, tls.tokio_postgres.clone()).await,
        }
    }

    /// One connection per driver. Over TLS, checks on the server that all three are on TLS
    /// with the same protocol version and cipher from the same address, and says which.
    pub async fn connect_all(&self) -> Result<Conns, BoxError> {
        let mut conns = Conns {
            tusk: self.tusk().connect().await?,
            tp: self.tokio_postgres_connect(&self.tokio_postgres()).await?,
            sqlx: PgConnection::connect_with(&self.sqlx()).await?,
        };
        if self.tls.is_some() {
            conns.check_tls().await?;
        }
        Ok(conns)
    }
}

/// A tokio-postgres client and the task driving its connection.
pub struct TokioPostgres {
    pub client: tokio_postgres::Client,
    task: JoinHandle<()>,
}

impl TokioPostgres {
    pub async fn connect<T>(
        config: &tokio_postgres::Config,
        tls: T,
    ) -> Result<TokioPostgres, BoxError>
    where
        T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
        T::Stream: Send + 'static,
    {
        let (client, connection) = config.connect(tls).await?;
        let task = tokio::spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("tokio-postgres connection error: {e}");
            }
        });
        Ok(TokioPostgres { client, task })
    }

    /// Drops the client, which makes the connection task send Terminate and end; waits for it.
    pub async fn close(self) -> Result<(), BoxError> {
        drop(self.client);
        self.task.await?;
        Ok(())
    }
}

/// One open connection of each driver.
pub struct Conns {
    pub tusk: tusk::Connection,
    pub tp: TokioPostgres,
    pub sqlx: PgConnection,
}

/// One connection's answer to [`TLS_CHECK`].
type TlsState = (bool, String, String, String);

impl Conns {
    /// Fails unless every driver's connection is on TLS, with the same version, cipher and
    /// client address; prints them once.
    async fn check_tls(&mut self) -> Result<(), BoxError> {
        let tusk_row = self.tusk.query_one(TLS_CHECK, &[]).await?;
        let tusk: TlsState = (
            tusk_row.get(0),
            tusk_row.get(1),
            tusk_row.get(2),
            tusk_row.get(3),
        );
        let tp_row = self.tp.client.query_one(TLS_CHECK, &[]).await?;
        let tp: TlsState = (tp_row.get(0), tp_row.get(1), tp_row.get(2), tp_row.get(3));
        let sqlx_row = sqlx::query(TLS_CHECK).fetch_one(&mut self.sqlx).await?;
        let sqlx: TlsState = (
            sqlx_row.try_get(0)?,
            sqlx_row.try_get(1)?,
            sqlx_row.try_get(2)?,
            sqlx_row.try_get(3)?,
        );
        let states = [("tusk", &tusk), ("tokio-postgres", &tp), ("sqlx", &sqlx)];
        let describe = || {
            states
                .iter()
                .map(|(name, (ssl, version, cipher, addr))| {
                    format!("{name}: ssl={ssl} {version} {cipher} from {addr}")
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        if states.iter().any(|(_, s)| !s.0) {
            return Err(format!("a driver is not on TLS: {}", describe()).into());
        }
        if states.iter().any(|(_, s)| *s != &tusk) {
            return Err(format!("the drivers' TLS connections differ: {}", describe()).into());
        }
        eprintln!(
            "versus: all three drivers on {} {} from {}",
            tusk.1, tusk.2, tusk.3
        );
        Ok(())
    }

    pub async fn close(self) -> Result<(), BoxError> {
        self.tusk.close().await?;
        self.tp.close().await?;
        self.sqlx.close().await?;
        Ok(())
    }
}
