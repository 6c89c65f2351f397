//! LISTEN/NOTIFY: a `Listener` printing the notifications a second connection in the same
//! program sends, including a reconnection after its backend is terminated.
//!
//! ```text
//! scripts/with-test-server cargo run --example listen
//! ```
//!
//! It connects with `TUSK_PG_URL` (set by that script), else `DATABASE_URL`, else the test
//! server's default address.

use std::time::Duration;

use futures_util::StreamExt;
use tusk::{Config, Connection, Listener, ListenerEvent};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn url() -> String {
    std::env::var("TUSK_PG_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://tusk:tusk@127.0.0.1:54329/tusk".to_owned())
}

#[tokio::main]
async fn main() -> Result<()> {
    let config: Config = url().parse::<Config>()?.with_env_fallbacks()?;

    let mut listener = Listener::connect(config.clone()).await?;
    listener.listen("orders").await?;
    listener.listen("Order \"Audit\"").await?; // any name: it is quoted for the server
    let listener_pid = listener.backend_pid();
    println!("listening as backend {listener_pid:?}");

    // The sender: an ordinary connection on a task of its own.
    let sender = tokio::spawn(async move {
        let mut conn = config.connect().await?;
        for (channel, payload) in [
            ("orders", "order 1 placed"),
            ("orders", "order 2 placed: 2 × café"),
            ("Order \"Audit\"", "order 1 checked"),
        ] {
            conn.execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
                .await?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Pull the rug: end the listener's session on the server.
        if let Some(pid) = listener_pid {
            conn.execute("SELECT pg_terminate_backend($1)", &[&pid])
                .await?;
        }
        // Give the listener time to reconnect, then send once more.
        tokio::time::sleep(Duration::from_millis(500)).await;
        conn.execute("SELECT pg_notify('orders', 'order 3 placed')", &[])
            .await?;
        conn.close().await?;
        Ok::<(), tusk::Error>(())
    });

    // `Listener` is a Stream of events; `listener.recv().await` works the same without
    // StreamExt.
    let mut received = 0;
    while received < 4 {
        let event = tokio::time::timeout(Duration::from_secs(10), listener.next())
            .await
            .map_err(|_| "no event within 10 s")?;
        match event {
            Some(Ok(ListenerEvent::Notification(n))) => {
                received += 1;
                println!(
                    "notification on {:?} from backend {}: {:?}",
                    n.channel, n.process_id, n.payload
                );
            }
            Some(Ok(ListenerEvent::Reconnected { missed_possible })) => println!(
                "reconnected as backend {:?}; notifications may have been missed: \
                 {missed_possible}",
                listener.backend_pid()
            ),
            Some(Ok(other)) => println!("event: {other:?}"),
            Some(Err(e)) => return Err(e.into()),
            None => break,
        }
    }
    sender.await??;

    // A plain connection can wait for notifications too.
    let mut conn = Connection::connect(&url()).await?;
    conn.batch_execute("LISTEN done; NOTIFY done, 'bye'")
        .await?;
    let n = conn.next_notification().await?;
    println!("plain connection got {:?} on {:?}", n.payload, n.channel);
    conn.close().await?;
    listener.close().await?;
    Ok(())
}
