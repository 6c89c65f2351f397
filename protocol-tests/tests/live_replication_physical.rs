//! Physical replication against the real servers: the WAL tusk streams is byte for byte what
//! `pg_receivewal` writes for the same range (and what the server's own segment file holds),
//! keepalives are answered (a low `wal_sender_timeout` would otherwise end the stream), the
//! idle timeout ends a silent stream, `written` and `flushed` are reported as received and
//! confirmed, a stream dropped at any await point or stopped leaves the connection usable.

#[path = "live_replication/common.rs"]
mod common;

use std::path::Path;
use std::pin::pin;
use std::time::Duration;

use common::{servers, Server};
use protocol_tests::errors::expect_message;
use protocol_tests::poll::poll_n_times;
use protocol_tests::stall_proxy::StallingProxy;
use tusk::replication::{Lsn, PhysicalStart, ReplicationClient, ReplicationStream, SlotOptions};
use tusk::{Connection, Kind};

const PG_RECEIVEWAL: &str = "/usr/lib/postgresql/15/bin/pg_receivewal";

async fn lsn(admin: &mut Connection, sql: &str) -> Lsn {
    let row = admin.query_one(sql, &[]).await.unwrap();
    row.get::<_, String>(0).parse().unwrap()
}

async fn segment_size(admin: &mut Connection) -> u64 {
    let row = admin
        .query_one(
            "SELECT setting::int8 FROM pg_settings WHERE name = 'wal_segment_size'",
            &[],
        )
        .await
        .unwrap();
    row.get::<_, i64>(0) as u64
}

/// Reads until `written` passes `until`, placing each chunk at its offset from `base`.
async fn collect(stream: &mut ReplicationStream<'_>, base: Lsn, until: Lsn, out: &mut Vec<u8>) {
    let limit = tokio::time::Instant::now() + Duration::from_secs(60);
    while stream.written() <= until {
        let data = tokio::time::timeout_at(limit, stream.next())
            .await
            .expect("WAL up to the target arrives")
            .unwrap()
            .expect("the stream goes on");
        let offset = (data.wal_start.0 - base.0) as usize;
        assert_eq!(offset, out.len(), "chunks are contiguous");
        out.extend_from_slice(&data.data);
    }
}

#[tokio::test]
async fn streamed_wal_is_what_pg_receivewal_writes() {
    for server in servers() {
        let mut admin = server.admin().await;
        let table = format!("tusk_repl_phys_{}", std::process::id());
        admin
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id int4, v text); \
                 INSERT INTO {table} VALUES (0, 'start'); SELECT pg_switch_wal()"
            ))
            .await
            .unwrap();
        let seg = segment_size(&mut admin).await;
        let start = lsn(&mut admin, "SELECT pg_current_wal_insert_lsn()::text").await;
        let base = Lsn(start.0 - start.0 % seg);
        let file: String = admin
            .query_one(
                // pg_walfile_name names the segment *before* a position on a segment
                // boundary (it means "the segment holding the byte before"): ask for base + 1.
                "SELECT pg_walfile_name($1::text::pg_lsn + 1)",
                &[&base.to_string()],
            )
            .await
            .unwrap()
            .get(0);

        let mut client = server.physical().await;
        let mut stream = client
            .start_physical(&PhysicalStart::at(base))
            .await
            .unwrap();
        for i in 1..=200 {
            admin
                .execute(
                    &format!("INSERT INTO {table} VALUES ($1, repeat('x', $1))"),
                    &[&i],
                )
                .await
                .unwrap();
        }
        let end = lsn(&mut admin, "SELECT pg_current_wal_flush_lsn()::text").await;
        assert_eq!(end.0 / seg, base.0 / seg, "the rows stayed in one segment");
        let len = (end.0 - base.0) as usize;

        // pg_receivewal (15) streams only from servers up to 15. It starts at the segment of
        // a whole-size .partial file it finds (else at the server's position then, which
        // other sessions' WAL may have moved on).
        let dir = tempdir(&format!("receivewal_{}", server.label));
        std::fs::write(dir.join(format!("{file}.partial")), vec![0u8; seg as usize]).unwrap();
        let receiver = (server.major().await <= 15).then(|| {
            std::process::Command::new(PG_RECEIVEWAL)
                .args(["-D", dir.to_str().unwrap(), "-n", "-E", &end.to_string()])
                .args([
                    "-d",
                    &format!("host=127.0.0.1 port={} user=tusk", server.port),
                ])
                .env("PGPASSWORD", "tusk")
                .spawn()
                .expect("pg_receivewal runs")
        });
        let mut ours = Vec::new();
        // Both stop only once WAL beyond the end arrives: keep writing some.
        let writer = {
            let table = table.clone();
            tokio::spawn(async move {
                let mut admin = server.admin().await;
                for i in 0..600 {
                    let sql = format!("INSERT INTO {table} VALUES ({}, 'after')", 1000 + i);
                    admin.batch_execute(&sql).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };
        collect(&mut stream, base, end, &mut ours).await;
        stream.stop().await.unwrap();
        assert!(ours.len() >= len);
        if let Some(mut receiver) = receiver {
            let status = tokio::task::spawn_blocking(move || receiver.wait())
                .await
                .unwrap()
                .unwrap();
            assert!(status.success(), "pg_receivewal: {status}");
            let theirs = read_segment(&dir, &file);
            // Two 16 MiB segments per run: not left behind in the temporary directory.
            let _ = std::fs::remove_dir_all(&dir);
            assert_eq!(theirs.len() as u64, seg);
            assert!(
                theirs[..len] == ours[..len],
                "{}: the WAL differs from pg_receivewal's at offset {:?} (from {base}; theirs \
                 {:02x?}, ours {:02x?})",
                server.label,
                theirs.iter().zip(&ours).position(|(a, b)| a != b),
                &theirs[..24],
                &ours[..24]
            );
        }
        writer.abort();
        // The server's own segment file agrees too (superuser reads it).
        let row = admin
            .query_one(
                "SELECT pg_read_binary_file('pg_wal/' || $1, 0, $2)",
                &[&file, &(len as i64)],
            )
            .await
            .unwrap();
        let on_disk: Vec<u8> = row.get(0);
        assert!(
            on_disk[..] == ours[..len],
            "{}: differs from pg_wal",
            server.label
        );
        client.identify_system().await.unwrap();
        admin
            .batch_execute(&format!("DROP TABLE {table}"))
            .await
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tusk_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read_segment(dir: &Path, file: &str) -> Vec<u8> {
    for name in [file.to_owned(), format!("{file}.partial")] {
        if let Ok(bytes) = std::fs::read(dir.join(&name)) {
            return bytes;
        }
    }
    panic!(
        "pg_receivewal wrote no {file}: {:?}",
        std::fs::read_dir(dir).unwrap().collect::<Vec<_>>()
    );
}

/// Inserts a row from another connection so the stream has WAL to send.
async fn write_some(server: &Server) {
    let mut admin = server.admin().await;
    admin
        .batch_execute(
            "CREATE TEMP TABLE t (a int); INSERT INTO t VALUES (1); SELECT txid_current()",
        )
        .await
        .unwrap();
}

/// Waits for the next XLogData, within 30 s.
async fn next_data(stream: &mut ReplicationStream<'_>) -> tusk::replication::XLogData {
    tokio::time::timeout(Duration::from_secs(30), stream.next())
        .await
        .expect("data arrives")
        .unwrap()
        .expect("the stream goes on")
}

#[tokio::test]
async fn keepalives_are_answered_at_once() {
    for server in servers() {
        // The server ends a replication connection that does not answer within 1 s; the
        // stream's own status updates are too rare to help.
        let config = server.config("options='-c wal_sender_timeout=1000'");
        let mut client = ReplicationClient::connect_physical(&config).await.unwrap();
        let at = client.identify_system().await.unwrap().xlogpos;
        let mut stream = client.start_physical(&PhysicalStart::at(at)).await.unwrap();
        stream.set_status_interval(Duration::from_secs(600));
        stream.set_idle_timeout(Duration::from_secs(600));
        let until = tokio::time::Instant::now() + Duration::from_secs(5);
        while let Ok(next) = tokio::time::timeout_at(until, stream.next()).await {
            next.unwrap().expect("the stream goes on");
        }
        // Several timeouts later the stream still works.
        write_some(&server).await;
        next_data(&mut stream).await;
        stream.stop().await.unwrap();
        client.identify_system().await.unwrap();
    }
}

#[tokio::test]
async fn a_healthy_idle_server_is_not_taken_for_a_silent_one() {
    for server in servers() {
        let mut client = server.physical().await;
        let at = client.identify_system().await.unwrap().xlogpos;
        let mut stream = client.start_physical(&PhysicalStart::at(at)).await.unwrap();
        // Nothing to send for 4 s, an idle timeout of 1 s: the stream asks for a reply when
        // the server has been quiet, and the server answers.
        stream.set_idle_timeout(Duration::from_secs(1));
        let until = tokio::time::Instant::now() + Duration::from_secs(4);
        while let Ok(next) = tokio::time::timeout_at(until, stream.next()).await {
            next.unwrap().expect("the stream goes on");
        }
        stream.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_silent_server_ends_the_stream_with_a_timeout() {
    for server in servers() {
        let proxy = StallingProxy::start(server.port).await;
        let config = common::Server {
            label: "proxied",
            port: proxy.port,
        }
        .config("");
        let mut client = ReplicationClient::connect_physical(&config).await.unwrap();
        let at = client.identify_system().await.unwrap().xlogpos;
        let mut stream = client.start_physical(&PhysicalStart::at(at)).await.unwrap();
        stream.set_idle_timeout(Duration::from_millis(1500));
        proxy.stall_existing();
        let started = std::time::Instant::now();
        let e = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                match stream.next().await {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("the stream ended"),
                    Err(e) => return e,
                }
            }
        })
        .await
        .expect("the idle timeout fires");
        expect_message(&e, Kind::Timeout, "idle timeout");
        assert!(started.elapsed() >= Duration::from_millis(1400));
        drop(stream);
        assert!(client.is_closed());
        let e = client.identify_system().await.unwrap_err();
        assert!(e.is_closed() || e.kind() == Kind::Closed, "{e}");
    }
}

/// What `pg_stat_replication` shows for the walsender `pid`: write and flush positions.
async fn report(admin: &mut Connection, pid: i32) -> Option<(Option<String>, Option<String>)> {
    let sql = "SELECT write_lsn::text, flush_lsn::text FROM pg_stat_replication WHERE pid = $1";
    let row = admin.query_opt(sql, &[&pid]).await.unwrap();
    row.map(|r| (r.get(0), r.get(1)))
}

#[tokio::test]
async fn only_confirmed_positions_are_reported_flushed() {
    for server in servers() {
        let mut admin = server.admin().await;
        let mut client = server.physical().await;
        let slot = common::unique("phys_confirm");
        client
            .create_replication_slot(
                &slot,
                &SlotOptions::physical().temporary(true).reserve_wal(true),
            )
            .await
            .unwrap();
        let at = client.identify_system().await.unwrap().xlogpos;
        let pid = client.backend_pid().unwrap();
        let mut stream = client
            .start_physical(&PhysicalStart::at(at).slot(&slot))
            .await
            .unwrap();
        write_some(&server).await;
        let data = next_data(&mut stream).await;
        let end = Lsn(data.wal_start.0 + data.data.len() as u64);
        stream.send_status().await.unwrap();
        let mut seen = None;
        for _ in 0..100 {
            seen = report(&mut admin, pid).await;
            if let Some((Some(w), _)) = &seen {
                if w.parse::<Lsn>().unwrap() >= end {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (written, flushed) = seen.expect("the stream is in pg_stat_replication");
        assert!(written.unwrap().parse::<Lsn>().unwrap() >= end);
        // Received, not confirmed: not flushed.
        let flushed = flushed.map(|f| f.parse::<Lsn>().unwrap()).unwrap_or(Lsn(0));
        assert!(flushed < end, "{flushed} < {end}");
        stream.confirm(end);
        stream.send_status().await.unwrap();
        let mut ok = false;
        for _ in 0..100 {
            if let Some((_, Some(f))) = report(&mut admin, pid).await {
                if f.parse::<Lsn>().unwrap() == end {
                    ok = true;
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            ok,
            "{}: the confirmed position is reported flushed",
            server.label
        );
        stream.stop().await.unwrap();
        client.close().await.unwrap();
    }
}

#[tokio::test]
async fn stop_then_start_again() {
    for server in servers() {
        let mut client = server.physical().await;
        let at = client.identify_system().await.unwrap().xlogpos;
        let mut stream = client.start_physical(&PhysicalStart::at(at)).await.unwrap();
        write_some(&server).await;
        next_data(&mut stream).await;
        let resume = stream.written();
        let end = stream.stop().await.unwrap();
        assert_eq!(end.next_timeline, None);
        client.identify_system().await.unwrap();
        let mut stream = client
            .start_physical(&PhysicalStart::at(resume).timeline(1))
            .await
            .unwrap();
        write_some(&server).await;
        let data = next_data(&mut stream).await;
        assert!(data.wal_start >= resume);
        stream.stop().await.unwrap();
        client.identify_system().await.unwrap();
    }
}

#[tokio::test]
async fn a_stream_dropped_at_any_await_leaves_the_connection_usable() {
    for server in servers() {
        let mut client = server.physical().await;
        for polls in 0..12 {
            let at = client.identify_system().await.unwrap().xlogpos;
            // The start, dropped part-way.
            {
                let start = PhysicalStart::at(at);
                let fut = pin!(client.start_physical(&start));
                poll_n_times(fut, polls).await;
            }
            client.identify_system().await.unwrap();
            // The stream, dropped while waiting for data.
            let mut stream = client.start_physical(&PhysicalStart::at(at)).await.unwrap();
            write_some(&server).await;
            {
                let fut = pin!(stream.next());
                poll_n_times(fut, polls).await;
            }
            drop(stream);
            client.identify_system().await.unwrap();
            // The stop, dropped part-way.
            let stream = client.start_physical(&PhysicalStart::at(at)).await.unwrap();
            {
                let fut = pin!(stream.stop());
                poll_n_times(fut, polls).await;
            }
            let info = tokio::time::timeout(Duration::from_secs(20), client.identify_system())
                .await
                .expect("no hang")
                .unwrap();
            assert!(info.xlogpos >= at, "{polls}");
        }
    }
}

#[tokio::test]
async fn a_statement_timeout_bounds_commands_not_a_stream() {
    for server in servers() {
        let mut client = server.physical().await;
        client.set_statement_timeout(Some(Duration::from_millis(500)));
        let at = client.identify_system().await.unwrap().xlogpos;
        let mut stream = client.start_physical(&PhysicalStart::at(at)).await.unwrap();
        // Idle for three statement timeouts: the stream is not cut.
        let until = tokio::time::Instant::now() + Duration::from_millis(1500);
        while let Ok(next) = tokio::time::timeout_at(until, stream.next()).await {
            next.unwrap().expect("the stream goes on");
        }
        write_some(&server).await;
        next_data(&mut stream).await;
        // Dropped mid-stream: the next command drains it within its own timeout.
        drop(stream);
        client.identify_system().await.unwrap();
    }
}
