//! A counting TCP proxy on loopback: forwards client connections to the real server and
//! counts the bytes clients send, so a test can prove a call sent nothing. A clean
//! [`FaultProxy`] under its older name.

use crate::fault_proxy::FaultProxy;

/// A running proxy; dropping it closes its connections.
pub struct CountingProxy {
    /// The port clients connect to.
    pub port: u16,
    proxy: FaultProxy,
}

impl CountingProxy {
    /// Starts a proxy forwarding to `127.0.0.1:upstream_port`.
    pub async fn start(upstream_port: u16) -> CountingProxy {
        let proxy = FaultProxy::start(upstream_port).await;
        CountingProxy {
            port: proxy.port,
            proxy,
        }
    }

    /// Bytes clients have sent so far (over every connection).
    pub fn bytes_sent(&self) -> u64 {
        self.proxy.counts().to_server
    }
}
