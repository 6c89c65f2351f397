//! Connecting each driver to the benchmark server, with the same settings for all: TCP to the
//! same address, no TLS (and no SSLRequest), password authentication (SCRAM-SHA-256 on the
//! test server), statement logging off where a driver has it.

use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection as _, PgConnection};
use tokio::task::JoinHandle;
use tokio_postgres::NoTls;

use crate::BoxError;

/// Where the server is and whom to connect as.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub dbname: String,
    pub user: String,
    pub password: String,
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
        tusk::Config::new()
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(&self.dbname)
            .ssl_mode(tusk::SslMode::Disable)
    }

    pub fn tokio_postgres(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(&self.dbname)
            .ssl_mode(tokio_postgres::config::SslMode::Disable);
        config
    }

    pub fn sqlx(&self) -> PgConnectOptions {
        PgConnectOptions::new()
            .host(&self.host)
            .port(self.port)
            .username(&self.user)
            .password(&self.password)
            .database(&self.dbname)
            .ssl_mode(PgSslMode::Disable)
            .disable_statement_logging()
    }

    /// One connection per driver.
    pub async fn connect_all(&self) -> Result<Conns, BoxError> {
        Ok(Conns {
            tusk: self.tusk().connect().await?,
            tp: TokioPostgres::connect(&self.tokio_postgres()).await?,
            sqlx: PgConnection::connect_with(&self.sqlx()).await?,
        })
    }
}

/// A tokio-postgres client and the task driving its connection.
pub struct TokioPostgres {
    pub client: tokio_postgres::Client,
    task: JoinHandle<()>,
}

impl TokioPostgres {
    pub async fn connect(config: &tokio_postgres::Config) -> Result<TokioPostgres, BoxError> {
        let (client, connection) = config.connect(NoTls).await?;
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

impl Conns {
    pub async fn close(self) -> Result<(), BoxError> {
        self.tusk.close().await?;
        self.tp.close().await?;
        self.sqlx.close().await?;
        Ok(())
    }
}
