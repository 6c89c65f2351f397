//! A TCP proxy on loopback in front of the real server that a test can stall: the connections
//! open at that moment stop forwarding bytes either way without being closed, as behind a
//! network that went silent (a dropped NAT entry, a failed-over address). Connections opened
//! afterwards are forwarded normally. A [`FaultProxy`] under its older name.

use crate::fault_proxy::FaultProxy;

/// A running proxy; dropping it closes its connections.
pub struct StallingProxy {
    /// The port clients connect to.
    pub port: u16,
    proxy: FaultProxy,
}

impl StallingProxy {
    /// Starts a proxy forwarding to `127.0.0.1:upstream_port`.
    pub async fn start(upstream_port: u16) -> StallingProxy {
        let proxy = FaultProxy::start(upstream_port).await;
        StallingProxy {
            port: proxy.port,
            proxy,
        }
    }

    /// Stalls every connection open now; later ones are forwarded normally.
    pub fn stall_existing(&self) {
        self.proxy.stall_all();
    }

    /// How many connections the proxy has accepted.
    pub fn connections(&self) -> u64 {
        self.proxy.accepted()
    }
}
