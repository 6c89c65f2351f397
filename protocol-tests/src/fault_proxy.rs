//! A fault-injecting TCP proxy on loopback in front of the real server, working on raw bytes
//! (it knows nothing of the PostgreSQL protocol). Each accepted connection follows a
//! [`FaultPlan`], one [`DirectionPlan`] per direction:
//!
//! - **cut** after N bytes: forward exactly N bytes that way, then close both sides (FIN: the
//!   peer reads every forwarded byte, then end of stream), or reset both (RST: a peer's next
//!   read or write fails with a reset);
//! - **stall** after N bytes: forward exactly N bytes, then stop reading and writing that way,
//!   the sockets left open (a network gone silent: no data, no close);
//! - **delay** every forwarded piece;
//! - **re-chunk** ([`Chunking`]): forward in pieces of one fixed size (1 puts message
//!   boundaries at every offset), of seeded random sizes, or coalesce what arrives close
//!   together into large writes.
//!
//! Every connection counts the bytes forwarded each way ([`ByteCounts`]) and keeps the first
//! [`KEPT_BYTES`] of them, so a clean run ([`FaultPlan::clean`]) records how long an exchange
//! is (and what it says), and a test can then cut it at every offset. A plan is chosen when a connection is accepted ([`FaultProxy::set_default_plan`],
//! [`FaultProxy::set_plan_for`]: offsets from the connection's first byte) or applied to a
//! running connection ([`ProxiedConnection::apply`]: offsets from that moment), and a test can
//! cut or stall connections at any time ([`FaultProxy::cut_all`], [`FaultProxy::stall_all`]).
//!
//! Dropping the proxy stops it and closes every connection it holds. The older
//! [`crate::proxy::CountingProxy`] and [`crate::stall_proxy::StallingProxy`] are thin wrappers
//! over this one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

/// The most bytes read from a socket at once (and so the largest coalesced write).
const READ_BUFFER: usize = 64 * 1024;

/// How many of the first bytes forwarded each way a connection keeps, for
/// [`ProxiedConnection::bytes`].
pub const KEPT_BYTES: usize = 64 * 1024;

/// Which way bytes flow through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// From the client to the server.
    ToServer,
    /// From the server to the client.
    ToClient,
}

impl Direction {
    /// Both directions, client to server first.
    pub const BOTH: [Direction; 2] = [Direction::ToServer, Direction::ToClient];

    fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }
}

/// How the bytes of one direction are cut into the writes that forward them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Chunking {
    /// Each read forwarded in one write, as it came.
    #[default]
    AsRead,
    /// Writes of this many bytes (the last piece of a read may be shorter); 0 counts as 1.
    Fixed(usize),
    /// Writes of random sizes from 1 to `max`, drawn from a generator seeded with `seed`, so a
    /// failing run can be repeated.
    Random {
        /// Seeds the sizes (the two directions draw different sequences from one seed).
        seed: u64,
        /// The largest piece; 0 counts as 1.
        max: usize,
    },
    /// Reads gathered into one write until `max` bytes wait or nothing more arrives for
    /// `linger`, so that many small messages reach the peer in one piece.
    Coalesce {
        /// The largest write (at most 64 KiB).
        max: usize,
        /// How long to wait for more bytes before writing what waits.
        linger: Duration,
    },
}

/// What the proxy does to the bytes of one direction. The default forwards them unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirectionPlan {
    /// Forward exactly this many bytes, then close both sides.
    pub cut_after: Option<u64>,
    /// Cut with a reset (RST to both peers) rather than a close: what a crashed host or a
    /// middlebox dropping the connection looks like.
    pub reset: bool,
    /// Forward exactly this many bytes, then forward nothing more this way and leave the
    /// sockets open (until a cut or the proxy's end).
    pub stall_after: Option<u64>,
    /// Wait this long before forwarding each piece.
    pub delay: Option<Duration>,
    /// How the bytes are cut into writes.
    pub chunking: Chunking,
}

/// What the proxy does to one connection: a plan for each direction. The default is a clean
/// run, which only counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultPlan {
    /// Client to server.
    pub to_server: DirectionPlan,
    /// Server to client.
    pub to_client: DirectionPlan,
}

impl FaultPlan {
    /// Forward everything unchanged, counting the bytes (the recording run).
    pub fn clean() -> FaultPlan {
        FaultPlan::default()
    }

    /// Cut the connection (both sides) after exactly `after` bytes in `direction`.
    pub fn cut(direction: Direction, after: u64) -> FaultPlan {
        let mut plan = FaultPlan::default();
        plan.direction_mut(direction).cut_after = Some(after);
        plan
    }

    /// Reset the connection (RST to both peers) after exactly `after` bytes in `direction`.
    pub fn reset(direction: Direction, after: u64) -> FaultPlan {
        let mut plan = FaultPlan::cut(direction, after);
        plan.direction_mut(direction).reset = true;
        plan
    }

    /// Stop forwarding in `direction` after exactly `after` bytes, leaving the sockets open.
    pub fn stall(direction: Direction, after: u64) -> FaultPlan {
        let mut plan = FaultPlan::default();
        plan.direction_mut(direction).stall_after = Some(after);
        plan
    }

    /// This plan with both directions forwarded in pieces cut by `chunking`.
    pub fn chunked(mut self, chunking: Chunking) -> FaultPlan {
        self.to_server.chunking = chunking;
        self.to_client.chunking = chunking;
        self
    }

    /// This plan with every piece in both directions held back by `delay`.
    pub fn delayed(mut self, delay: Duration) -> FaultPlan {
        self.to_server.delay = Some(delay);
        self.to_client.delay = Some(delay);
        self
    }

    /// The plan of one direction.
    pub fn direction(&self, direction: Direction) -> &DirectionPlan {
        match direction {
            Direction::ToServer => &self.to_server,
            Direction::ToClient => &self.to_client,
        }
    }

    /// The plan of one direction, to change.
    pub fn direction_mut(&mut self, direction: Direction) -> &mut DirectionPlan {
        match direction {
            Direction::ToServer => &mut self.to_server,
            Direction::ToClient => &mut self.to_client,
        }
    }
}

/// Bytes forwarded each way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ByteCounts {
    /// Client to server.
    pub to_server: u64,
    /// Server to client.
    pub to_client: u64,
}

impl ByteCounts {
    /// The count of one direction.
    pub fn get(&self, direction: Direction) -> u64 {
        match direction {
            Direction::ToServer => self.to_server,
            Direction::ToClient => self.to_client,
        }
    }

    /// The bytes forwarded since `earlier` was taken on the same connection.
    pub fn since(&self, earlier: ByteCounts) -> ByteCounts {
        ByteCounts {
            to_server: self.to_server - earlier.to_server,
            to_client: self.to_client - earlier.to_client,
        }
    }
}

/// A running proxy. Dropping it stops accepting and closes every connection it forwards.
pub struct FaultProxy {
    /// The port clients connect to (on 127.0.0.1).
    pub port: u16,
    shared: Arc<Shared>,
}

/// The proxy's state, shared with its accept loop.
struct Shared {
    plans: Mutex<Plans>,
    links: Mutex<Vec<Arc<Link>>>,
    /// The accept loop and every forwarding task, stopped when the proxy is dropped.
    tasks: Mutex<Vec<AbortHandle>>,
}

/// The plans for connections not accepted yet.
struct Plans {
    default: FaultPlan,
    /// Plans for particular connections, by number (0 is the first accepted).
    numbered: Vec<(u64, FaultPlan)>,
}

impl FaultProxy {
    /// Starts a proxy forwarding to `127.0.0.1:upstream_port`; every connection is forwarded
    /// cleanly (and counted) until a plan says otherwise.
    pub async fn start(upstream_port: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let shared = Arc::new(Shared {
            plans: Mutex::new(Plans {
                default: FaultPlan::clean(),
                numbered: Vec::new(),
            }),
            links: Mutex::new(Vec::new()),
            tasks: Mutex::new(Vec::new()),
        });
        let accept = tokio::spawn(accept_loop(listener, upstream_port, shared.clone()));
        lock(&shared.tasks).push(accept.abort_handle());
        FaultProxy { port, shared }
    }

    /// The plan for every connection accepted from now on (except those given their own with
    /// [`FaultProxy::set_plan_for`]). Offsets count from each connection's first byte.
    pub fn set_default_plan(&self, plan: FaultPlan) {
        lock(&self.shared.plans).default = plan;
    }

    /// The plan for the connection accepted `number`-th (0 is the first), if it is not
    /// accepted yet. Offsets count from its first byte.
    pub fn set_plan_for(&self, number: u64, plan: FaultPlan) {
        let mut plans = lock(&self.shared.plans);
        plans.numbered.retain(|(n, _)| *n != number);
        plans.numbered.push((number, plan));
    }

    /// How many connections the proxy has accepted.
    pub fn accepted(&self) -> u64 {
        lock(&self.shared.links).len() as u64
    }

    /// The connection accepted `number`-th (0 is the first), if there is one yet.
    pub fn connection(&self, number: u64) -> Option<ProxiedConnection> {
        let links = lock(&self.shared.links);
        let index = usize::try_from(number).ok()?;
        links.get(index).cloned().map(ProxiedConnection)
    }

    /// Every connection accepted so far, in order.
    pub fn connections(&self) -> Vec<ProxiedConnection> {
        lock(&self.shared.links)
            .iter()
            .cloned()
            .map(ProxiedConnection)
            .collect()
    }

    /// The bytes forwarded each way over all connections.
    pub fn counts(&self) -> ByteCounts {
        lock(&self.shared.links)
            .iter()
            .fold(ByteCounts::default(), |total, link| {
                let counts = link.counts();
                ByteCounts {
                    to_server: total.to_server + counts.to_server,
                    to_client: total.to_client + counts.to_client,
                }
            })
    }

    /// Cuts every connection accepted so far, now (both sides closed).
    pub fn cut_all(&self) {
        for link in lock(&self.shared.links).iter() {
            link.cut();
        }
    }

    /// Stalls every connection accepted so far, now, both ways; later ones are forwarded by
    /// their plans.
    pub fn stall_all(&self) {
        for link in lock(&self.shared.links).iter() {
            link.stall_now();
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        for task in lock(&self.shared.tasks).drain(..) {
            task.abort();
        }
    }
}

/// One connection through the proxy, to watch and steer while it runs.
#[derive(Clone)]
pub struct ProxiedConnection(Arc<Link>);

impl ProxiedConnection {
    /// Its number: 0 for the first connection the proxy accepted.
    pub fn number(&self) -> u64 {
        self.0.number
    }

    /// The bytes forwarded each way so far.
    pub fn counts(&self) -> ByteCounts {
        self.0.counts()
    }

    /// The first bytes (up to [`KEPT_BYTES`]) forwarded in `direction` so far.
    pub fn bytes(&self, direction: Direction) -> Vec<u8> {
        self.0.leg(direction).kept.clone()
    }

    /// Follow `plan` from now on: its cut and stall offsets count from the bytes forwarded so
    /// far, its chunking and delay replace the current ones.
    pub fn apply(&self, plan: FaultPlan) {
        for direction in Direction::BOTH {
            self.0
                .leg(direction)
                .follow(direction, *plan.direction(direction));
        }
        self.0.changed();
    }

    /// Cuts the connection now: both sides closed, whatever was not forwarded is lost.
    pub fn cut(&self) {
        self.0.cut();
    }

    /// Stops forwarding both ways now, leaving the sockets open.
    pub fn stall(&self) {
        self.0.stall_now();
    }

    /// Whether the connection was cut (by its plan, [`ProxiedConnection::cut`], or a write
    /// that failed because a peer went away).
    pub fn is_cut(&self) -> bool {
        self.0.cut.load(Ordering::SeqCst)
    }

    /// Waits until both directions have ended: each was closed by its source or cut, so
    /// nothing more will be forwarded and [`ProxiedConnection::counts`] is final.
    pub async fn closed(&self) {
        let mut ended = self.0.ended.subscribe();
        // The sender lives in the link, which this handle holds: `wait_for` cannot fail.
        let _ = ended.wait_for(|legs| *legs == 2).await;
    }
}

/// A connection's state, shared by its two forwarding tasks and the test.
struct Link {
    number: u64,
    /// Per direction, indexed by [`Direction::index`].
    legs: [Mutex<Leg>; 2],
    /// Set once the connection is cut; both tasks then close their sides.
    cut: AtomicBool,
    /// Whether the cut resets the sockets rather than closing them; set before `cut`.
    reset: AtomicBool,
    /// Bumped on every change a forwarding task must notice while it waits.
    control: watch::Sender<u64>,
    /// How many directions have ended.
    ended: watch::Sender<u8>,
}

/// One direction's plan and progress.
struct Leg {
    forwarded: u64,
    /// The first [`KEPT_BYTES`] forwarded.
    kept: Vec<u8>,
    /// Absolute offsets (bytes forwarded since the connection began).
    cut_at: Option<u64>,
    stall_at: Option<u64>,
    delay: Option<Duration>,
    /// Whether this direction's cut is a reset.
    reset: bool,
    chunker: Chunker,
}

impl Leg {
    /// Takes on `plan`, its offsets counted from now.
    fn follow(&mut self, direction: Direction, plan: DirectionPlan) {
        self.cut_at = plan.cut_after.map(|n| self.forwarded + n);
        self.stall_at = plan.stall_after.map(|n| self.forwarded + n);
        self.delay = plan.delay;
        self.reset = plan.reset;
        self.chunker = Chunker::new(plan.chunking, direction);
    }

    /// How many more bytes may go before the next cut or stall.
    fn allowance(&self) -> Option<u64> {
        [self.cut_at, self.stall_at]
            .into_iter()
            .flatten()
            .map(|at| at.saturating_sub(self.forwarded))
            .min()
    }

    /// The event due now, if the bytes forwarded reached a cut or stall offset.
    fn due(&self) -> Option<End> {
        if self.cut_at.is_some_and(|at| self.forwarded >= at) {
            Some(End::Cut)
        } else if self.stall_at.is_some_and(|at| self.forwarded >= at) {
            Some(End::Stall)
        } else {
            None
        }
    }
}

/// Why a direction stopped forwarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Its source closed: the close is passed on (a half-close, as TCP allows).
    Eof,
    /// The connection is cut (by a plan, a test, or a write that failed).
    Cut,
    /// This direction stalls.
    Stall,
}

impl Link {
    fn new(number: u64, plan: FaultPlan) -> Link {
        let leg = |direction: Direction| {
            let mut leg = Leg {
                forwarded: 0,
                kept: Vec::new(),
                cut_at: None,
                stall_at: None,
                delay: None,
                reset: false,
                chunker: Chunker::new(Chunking::AsRead, direction),
            };
            leg.follow(direction, *plan.direction(direction));
            Mutex::new(leg)
        };
        Link {
            number,
            legs: [leg(Direction::ToServer), leg(Direction::ToClient)],
            cut: AtomicBool::new(false),
            reset: AtomicBool::new(false),
            control: watch::Sender::new(0),
            ended: watch::Sender::new(0),
        }
    }

    fn leg(&self, direction: Direction) -> MutexGuard<'_, Leg> {
        lock(&self.legs[direction.index()])
    }

    fn counts(&self) -> ByteCounts {
        ByteCounts {
            to_server: self.leg(Direction::ToServer).forwarded,
            to_client: self.leg(Direction::ToClient).forwarded,
        }
    }

    /// Wakes the forwarding tasks to look at the state again.
    fn changed(&self) {
        self.control.send_modify(|version| *version += 1);
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.changed();
    }

    fn is_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }

    fn stall_now(&self) {
        for direction in Direction::BOTH {
            let mut leg = self.leg(direction);
            leg.stall_at = Some(leg.forwarded);
        }
        self.changed();
    }

    /// What stops this direction now, if anything.
    fn due(&self, direction: Direction) -> Option<End> {
        if self.is_cut() {
            return Some(End::Cut);
        }
        let leg = self.leg(direction);
        let due = leg.due();
        if due == Some(End::Cut) && leg.reset {
            self.reset.store(true, Ordering::SeqCst);
        }
        due
    }

    /// The next piece of `waiting`, the rest of a read, counted (and kept) as forwarded at
    /// once, so a count taken while it is written already includes it; or what stops this
    /// direction first.
    fn next_piece(&self, direction: Direction, waiting: &[u8]) -> Result<Piece, End> {
        if self.is_cut() {
            return Err(End::Cut);
        }
        let mut leg = self.leg(direction);
        if let Some(end) = leg.due() {
            return Err(end);
        }
        let mut size = leg.chunker.next_size(waiting.len());
        if let Some(allowed) = leg.allowance() {
            size = size.min(usize::try_from(allowed).unwrap_or(usize::MAX));
        }
        leg.forwarded += size as u64;
        let room = KEPT_BYTES.saturating_sub(leg.kept.len()).min(size);
        leg.kept.extend_from_slice(&waiting[..room]);
        if leg.reset && leg.due() == Some(End::Cut) {
            self.reset.store(true, Ordering::SeqCst);
        }
        Ok(Piece {
            size,
            delay: leg.delay,
            cuts: leg.due() == Some(End::Cut),
        })
    }

    /// Waits until the connection is cut.
    async fn until_cut(&self, control: &mut watch::Receiver<u64>) {
        while !self.is_cut() {
            // The sender lives in the link: `changed` cannot fail while `self` is borrowed.
            let _ = control.changed().await;
        }
    }

    /// Waits until a forwarding task has something new to look at.
    async fn until_changed(control: &mut watch::Receiver<u64>) {
        let _ = control.changed().await;
    }
}

/// One write of a direction.
struct Piece {
    size: usize,
    /// Waited before the write.
    delay: Option<Duration>,
    /// The last bytes before this direction's cut.
    cuts: bool,
}

/// Sizes the pieces of one direction.
struct Chunker {
    chunking: Chunking,
    /// xorshift64* state for [`Chunking::Random`]; never 0.
    state: u64,
}

impl Chunker {
    fn new(chunking: Chunking, direction: Direction) -> Chunker {
        let seed = match chunking {
            Chunking::Random { seed, .. } => seed,
            _ => 0,
        };
        // Distinct, non-zero states for the two directions of one seed.
        let mix = seed ^ 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(direction.index() as u64 + 1);
        Chunker {
            chunking,
            state: if mix == 0 { 1 } else { mix },
        }
    }

    fn next_size(&mut self, waiting: usize) -> usize {
        let size = match self.chunking {
            Chunking::AsRead | Chunking::Coalesce { .. } => waiting,
            Chunking::Fixed(size) => size.max(1),
            Chunking::Random { max, .. } => {
                let max = max.max(1) as u64;
                (self.next_random() % max + 1) as usize
            }
        };
        size.min(waiting)
    }

    fn next_random(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding a lock leaves consistent data (every critical section
    // is a few assignments).
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn accept_loop(listener: TcpListener, upstream_port: u16, shared: Arc<Shared>) {
    while let Ok((client, _)) = listener.accept().await {
        let number = lock(&shared.links).len() as u64;
        let plan = {
            let plans = lock(&shared.plans);
            plans
                .numbered
                .iter()
                .find(|(n, _)| *n == number)
                .map_or(plans.default, |(_, plan)| *plan)
        };
        let link = Arc::new(Link::new(number, plan));
        // Registered before the upstream connect, so numbers follow accept order even when it
        // fails (the client is then closed: its link shows two ended directions).
        lock(&shared.links).push(link.clone());
        let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)).await else {
            link.cut();
            link.ended.send_replace(2);
            continue;
        };
        // Each piece goes out as its own segment, so re-chunking reaches the peer.
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        let up = tokio::spawn(forward(
            link.clone(),
            Direction::ToServer,
            client_read,
            server_write,
        ));
        let down = tokio::spawn(forward(
            link,
            Direction::ToClient,
            server_read,
            client_write,
        ));
        lock(&shared.tasks).extend([up.abort_handle(), down.abort_handle()]);
    }
}

/// Forwards one direction by its plan until its source closes or the connection is cut or
/// stalled; then passes the close on, cuts, or holds still until a cut.
async fn forward(
    link: Arc<Link>,
    direction: Direction,
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
) {
    let mut control = link.control.subscribe();
    let mut buf = vec![0u8; READ_BUFFER];
    let end = 'forwarding: loop {
        if let Some(end) = link.due(direction) {
            break end;
        }
        let read = tokio::select! {
            read = from.read(&mut buf) => read,
            // A plan applied, a cut or a stall while waiting for bytes: look again.
            () = Link::until_changed(&mut control) => continue,
        };
        let mut len = match read {
            Ok(0) | Err(_) => break End::Eof,
            Ok(n) => n,
        };
        let coalesce = match link.leg(direction).chunker.chunking {
            Chunking::Coalesce { max, linger } => Some((max.clamp(1, READ_BUFFER), linger)),
            _ => None,
        };
        if let Some((max, linger)) = coalesce {
            // Outside the select above: bytes read here must not be dropped with a future.
            while len < max {
                match tokio::time::timeout(linger, from.read(&mut buf[len..max])).await {
                    Ok(Ok(n)) if n > 0 => len += n,
                    // Quiet for `linger`, or the source closed (seen again by the next read).
                    _ => break,
                }
            }
        }
        let mut rest = &buf[..len];
        while !rest.is_empty() {
            let piece = match link.next_piece(direction, rest) {
                Ok(piece) => piece,
                // The rest of this read is never forwarded.
                Err(end) => break 'forwarding end,
            };
            let bytes = &rest[..piece.size];
            if let Some(delay) = piece.delay {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = link.until_cut(&mut control) => break 'forwarding End::Cut,
                }
            }
            if piece.cuts {
                // The other direction stops before these last bytes go out, so nothing they
                // draw from the peer gets through: the cut is exactly here both ways.
                link.cut();
                let _ = to.write_all(bytes).await;
                break 'forwarding End::Cut;
            }
            let sent = tokio::select! {
                sent = to.write_all(bytes) => sent,
                () = link.until_cut(&mut control) => break 'forwarding End::Cut,
            };
            if sent.is_err() {
                // The peer is gone: close the other side too.
                break 'forwarding End::Cut;
            }
            let size = piece.size;
            rest = &rest[size..];
            if matches!(
                link.leg(direction).chunker.chunking,
                Chunking::Fixed(_) | Chunking::Random { .. }
            ) {
                // Let the peer's task run between pieces when both share a runtime.
                tokio::task::yield_now().await;
            }
        }
    };
    match end {
        End::Eof => {
            let _ = to.shutdown().await;
            link.ended.send_modify(|legs| *legs += 1);
        }
        End::Cut | End::Stall => {
            if end == End::Stall {
                // Neither read nor write this way until the connection is cut (or the proxy
                // dropped): the peer's writes back up as on a silent network.
                link.until_cut(&mut control).await;
            } else {
                link.cut();
            }
            if link.reset.load(Ordering::SeqCst) {
                // With SO_LINGER 0 a socket sends RST when it closes, once its last half is
                // gone (the other task lets go of its halves the same way); `forget` keeps the
                // write half from sending FIN first, as dropping it would.
                let _ = to.as_ref().set_zero_linger();
                let _ = from.as_ref().set_zero_linger();
                to.forget();
                drop(from);
                link.ended.send_modify(|legs| *legs += 1);
                return;
            }
            // FIN after exactly the bytes forwarded.
            let _ = to.shutdown().await;
            drop(to);
            link.ended.send_modify(|legs| *legs += 1);
            // Then the source is read to its end (whenever its peer closes) so that closing our
            // socket sends no RST, which could discard bytes the peer has not read yet.
            while let Ok(n) = from.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        }
    }
}
