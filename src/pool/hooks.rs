//! The pool's connection hooks: [`PoolBuilder::before_connect`](super::PoolBuilder::before_connect)
//! decides the configuration each new connection is opened with, and
//! [`PoolBuilder::after_connect`](super::PoolBuilder::after_connect) sets each new session up.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::client::connection::Connection;
use crate::config::Config;
use crate::error::Error;

/// A boxed future that can be sent between threads, as the pool's hooks return
/// ([`PoolBuilder::after_connect`](super::PoolBuilder::after_connect)).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// `before_connect`, boxed: a clone of the pool's configuration in, the one to connect with out.
pub(super) type BeforeConnect =
    Arc<dyn Fn(Config) -> BoxFuture<'static, Result<Config, Error>> + Send + Sync>;

/// `after_connect`, boxed: runs on each new connection before its first use.
pub(super) type AfterConnect =
    Arc<dyn for<'c> Fn(&'c mut Connection) -> BoxFuture<'c, Result<(), Error>> + Send + Sync>;

/// The hooks a pool was built with.
#[derive(Clone, Default)]
pub(super) struct Hooks {
    pub(super) before_connect: Option<BeforeConnect>,
    pub(super) after_connect: Option<AfterConnect>,
}

impl Hooks {
    /// Boxes a `before_connect` closure.
    pub(super) fn boxed_before_connect<F, Fut>(hook: F) -> BeforeConnect
    where
        F: Fn(Config) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Config, Error>> + Send + 'static,
    {
        Arc::new(move |config| Box::pin(hook(config)))
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The closures themselves cannot be shown; whether they are set can.
        f.debug_struct("Hooks")
            .field("before_connect", &self.before_connect.is_some())
            .field("after_connect", &self.after_connect.is_some())
            .finish()
    }
}
