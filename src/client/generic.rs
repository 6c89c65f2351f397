//! [`GenericClient`]: the query API shared by [`Connection`], [`Transaction`] and
//! [`PooledConnection`], for code that should run on any of them.

use std::future::Future;

use crate::client::connection::Connection;
use crate::client::query::{Params, ToStatement};
use crate::client::row::Row;
use crate::client::simple::SimpleQueryMessage;
use crate::client::statement::Statement;
use crate::client::transaction::Transaction;
use crate::error::Error;
use crate::pool::PooledConnection;
use crate::types::ToSql;
use crate::TransactionStatus;

mod private {
    /// Keeps [`GenericClient`](super::GenericClient) implemented by tusk's types only, so
    /// methods can be added to it without breaking anyone.
    pub trait Sealed {}
}

/// The query API of a [`Connection`], a [`Transaction`] (or savepoint) and a
/// [`PooledConnection`], for functions that should run on any of them.
///
/// Every method does what the inherent method of the same name on [`Connection`] does, and
/// returns a `Send` future, so work written against `C: GenericClient` can be spawned.
/// The trait is sealed: only tusk implements it.
///
/// ```
/// use tusk::{Error, GenericClient};
///
/// async fn add_user<C: GenericClient>(client: &mut C, name: &str) -> Result<i32, Error> {
///     let row = client
///         .query_one("INSERT INTO users (name) VALUES ($1) RETURNING id", &[&name])
///         .await?;
///     Ok(row.get(0))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// let mut conn = tusk::Connection::connect(&url).await?;
/// # conn.batch_execute("CREATE TEMP TABLE users (id serial, name text)").await?;
/// add_user(&mut conn, "ada").await?;          // on the connection
/// let mut tx = conn.transaction().await?;
/// add_user(&mut tx, "grace").await?;          // in a transaction
/// tx.commit().await?;
///
/// let pool = tusk::Pool::new(url.parse()?);
/// let mut pooled = pool.get().await?;
/// # pooled.batch_execute("CREATE TEMP TABLE users (id serial, name text)").await?;
/// add_user(&mut pooled, "edsger").await?;     // on a pooled connection
/// # Ok(())
/// # }
/// ```
pub trait GenericClient: private::Sealed + Send {
    /// Runs a statement and returns the number of rows it affected (or returned); see
    /// [`Connection::execute`].
    fn execute<Q>(
        &mut self,
        query: &Q,
        params: Params<'_>,
    ) -> impl Future<Output = Result<u64, Error>> + Send
    where
        Q: ToStatement + Sync + ?Sized;

    /// Runs a query and returns all its rows; see [`Connection::query`].
    fn query<Q>(
        &mut self,
        query: &Q,
        params: Params<'_>,
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send
    where
        Q: ToStatement + Sync + ?Sized;

    /// Runs a query that must return exactly one row; see [`Connection::query_one`].
    fn query_one<Q>(
        &mut self,
        query: &Q,
        params: Params<'_>,
    ) -> impl Future<Output = Result<Row, Error>> + Send
    where
        Q: ToStatement + Sync + ?Sized;

    /// Runs a query that must return at most one row; see [`Connection::query_opt`].
    fn query_opt<Q>(
        &mut self,
        query: &Q,
        params: Params<'_>,
    ) -> impl Future<Output = Result<Option<Row>, Error>> + Send
    where
        Q: ToStatement + Sync + ?Sized;

    /// Prepares a statement; see [`Connection::prepare`].
    fn prepare(&mut self, sql: &str) -> impl Future<Output = Result<Statement, Error>> + Send;

    /// Runs SQL statements with the simple query protocol, discarding rows; see
    /// [`Connection::batch_execute`].
    fn batch_execute(&mut self, sql: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// Runs SQL statements with the simple query protocol and returns rows (as text) and
    /// command completions; see [`Connection::simple_query`].
    fn simple_query(
        &mut self,
        sql: &str,
    ) -> impl Future<Output = Result<Vec<SimpleQueryMessage>, Error>> + Send;

    /// [`execute`](GenericClient::execute) with `:name` placeholders; see
    /// [`Connection::execute_named`].
    fn execute_named(
        &mut self,
        sql: &str,
        params: &[(&str, &(dyn ToSql + Sync))],
    ) -> impl Future<Output = Result<u64, Error>> + Send;

    /// [`query`](GenericClient::query) with `:name` placeholders; see
    /// [`Connection::query_named`].
    fn query_named(
        &mut self,
        sql: &str,
        params: &[(&str, &(dyn ToSql + Sync))],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send;

    /// Starts a transaction, or a savepoint inside one; see [`Connection::transaction`].
    fn transaction(&mut self) -> impl Future<Output = Result<Transaction<'_>, Error>> + Send;

    /// The transaction status from the server's most recent ReadyForQuery; see
    /// [`Connection::transaction_status`].
    fn transaction_status(&self) -> TransactionStatus;
}

/// Implements [`GenericClient`] for `$ty` by calling the inherent methods of `$inh` on
/// `$mut_target` (or `$ref_target` for `&self` methods), expressions in `$this`. The calls are
/// fully qualified so that none can resolve to the trait method itself.
macro_rules! forward_generic_client {
    ($ty:ty => $inh:ty, |$this:ident| $mut_target:expr, $ref_target:expr) => {
        impl private::Sealed for $ty {}

        impl GenericClient for $ty {
            fn execute<Q>(
                &mut self,
                query: &Q,
                params: Params<'_>,
            ) -> impl Future<Output = Result<u64, Error>> + Send
            where
                Q: ToStatement + Sync + ?Sized,
            {
                let $this = self;
                <$inh>::execute($mut_target, query, params)
            }

            fn query<Q>(
                &mut self,
                query: &Q,
                params: Params<'_>,
            ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send
            where
                Q: ToStatement + Sync + ?Sized,
            {
                let $this = self;
                <$inh>::query($mut_target, query, params)
            }

            fn query_one<Q>(
                &mut self,
                query: &Q,
                params: Params<'_>,
            ) -> impl Future<Output = Result<Row, Error>> + Send
            where
                Q: ToStatement + Sync + ?Sized,
            {
                let $this = self;
                <$inh>::query_one($mut_target, query, params)
            }

            fn query_opt<Q>(
                &mut self,
                query: &Q,
                params: Params<'_>,
            ) -> impl Future<Output = Result<Option<Row>, Error>> + Send
            where
                Q: ToStatement + Sync + ?Sized,
            {
                let $this = self;
                <$inh>::query_opt($mut_target, query, params)
            }

            fn prepare(
                &mut self,
                sql: &str,
            ) -> impl Future<Output = Result<Statement, Error>> + Send {
                let $this = self;
                <$inh>::prepare($mut_target, sql)
            }

            fn batch_execute(
                &mut self,
                sql: &str,
            ) -> impl Future<Output = Result<(), Error>> + Send {
                let $this = self;
                <$inh>::batch_execute($mut_target, sql)
            }

            fn simple_query(
                &mut self,
                sql: &str,
            ) -> impl Future<Output = Result<Vec<SimpleQueryMessage>, Error>> + Send {
                let $this = self;
                <$inh>::simple_query($mut_target, sql)
            }

            fn execute_named(
                &mut self,
                sql: &str,
                params: &[(&str, &(dyn ToSql + Sync))],
            ) -> impl Future<Output = Result<u64, Error>> + Send {
                let $this = self;
                <$inh>::execute_named($mut_target, sql, params)
            }

            fn query_named(
                &mut self,
                sql: &str,
                params: &[(&str, &(dyn ToSql + Sync))],
            ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send {
                let $this = self;
                <$inh>::query_named($mut_target, sql, params)
            }

            fn transaction(
                &mut self,
            ) -> impl Future<Output = Result<Transaction<'_>, Error>> + Send {
                let $this = self;
                <$inh>::transaction($mut_target)
            }

            fn transaction_status(&self) -> TransactionStatus {
                let $this = self;
                <$inh>::transaction_status($ref_target)
            }
        }
    };
}

forward_generic_client!(Connection => Connection, |c| c, c);
forward_generic_client!(Transaction<'_> => Transaction<'_>, |t| t, t);
// A pooled connection is a smart pointer to its `Connection`: forward through the pointer.
forward_generic_client!(PooledConnection => Connection, |p| &mut **p, &**p);
