//! Change data capture: every change committed to the tables of a publication, printed as one
//! JSON line each, confirmed to the server as it goes (so a restart through a permanent slot
//! resumes after the last transaction printed, and nothing unprinted is lost).
//!
//! ```text
//! scripts/with-test-server cargo run --example cdc -- --demo
//! cargo run --example cdc -- [--publication NAME] [--slot NAME] [--demo]
//! ```
//!
//! It connects with `TUSK_PG_URL` (set by that script), else `DATABASE_URL`, else the test
//! server's default address; the role needs the REPLICATION attribute (and the right to
//! create the publication, when it does not exist: it is then created `FOR ALL TABLES`).
//! Without `--slot` a temporary slot is created, which goes away with the connection; with
//! `--slot NAME` the slot is created if missing and kept, so a later run resumes from it.
//! `--demo` creates a table and a publication of it alone (`tusk_cdc_demo`), writes three
//! transactions to it from a second connection, exits once they are printed, and drops both.

use std::time::Duration;

use serde_json::{json, Map, Value};
use tusk::replication::{
    Change, ChangeTuple, Lsn, PgOutputOptions, ReplicationClient, SlotOptions, SnapshotAction,
};
use tusk::Config;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn url() -> String {
    std::env::var("TUSK_PG_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://tusk:tusk@127.0.0.1:54329/tusk".to_owned())
}

struct Args {
    publication: String,
    slot: Option<String>,
    demo: bool,
}

fn args() -> Result<Args> {
    let mut args = Args {
        publication: "tusk_cdc".to_owned(),
        slot: None,
        demo: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--publication" => args.publication = it.next().ok_or("--publication NAME")?,
            "--slot" => args.slot = Some(it.next().ok_or("--slot NAME")?),
            "--demo" => {
                args.demo = true;
                args.publication = "tusk_cdc_demo".to_owned();
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    Ok(args)
}

/// A row as a JSON object: each value as the server's text (the stream is in text format),
/// NULL as null; an unchanged TOAST value (not sent by the server) as `{"unchanged": true}`.
fn row_json(tuple: &ChangeTuple) -> Result<Value> {
    let mut row = Map::new();
    for (i, column) in tuple.columns().iter().enumerate() {
        let value = if tuple.is_unchanged_toast(i) {
            json!({ "unchanged": true })
        } else {
            match tuple.try_get::<_, Option<String>>(i)? {
                Some(text) => Value::String(text),
                None => Value::Null,
            }
        };
        row.insert(column.name().to_owned(), value);
    }
    Ok(Value::Object(row))
}

/// The JSON line for a change, or `None` for those not worth a line (relation descriptions).
fn change_json(change: &Change, lsn: Lsn) -> Result<Option<Value>> {
    let lsn = lsn.to_string();
    Ok(Some(match change {
        Change::Begin { xid, final_lsn, .. } => {
            json!({ "lsn": lsn, "op": "begin", "xid": xid, "commit_lsn": final_lsn.to_string() })
        }
        Change::Commit { end_lsn, .. } => {
            json!({ "lsn": lsn, "op": "commit", "end_lsn": end_lsn.to_string() })
        }
        Change::Insert { relation, new, .. } => json!({
            "lsn": lsn, "op": "insert", "table": relation.qualified_name(), "new": row_json(new)?
        }),
        Change::Update {
            relation, old, new, ..
        } => json!({
            "lsn": lsn, "op": "update", "table": relation.qualified_name(),
            "old": old.as_ref().map(row_json).transpose()?, "new": row_json(new)?
        }),
        Change::Delete { relation, old, .. } => json!({
            "lsn": lsn, "op": "delete", "table": relation.qualified_name(), "old": row_json(old)?
        }),
        Change::Truncate { relations, .. } => json!({
            "lsn": lsn, "op": "truncate",
            "tables": relations.iter().map(|r| r.qualified_name()).collect::<Vec<_>>()
        }),
        Change::Message {
            prefix, content, ..
        } => json!({
            "lsn": lsn, "op": "message", "prefix": prefix,
            "content": String::from_utf8_lossy(content)
        }),
        _ => return Ok(None),
    }))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = args()?;
    let config: Config = url().parse::<Config>()?.with_env_fallbacks()?;

    // The publication, through an ordinary connection.
    let mut admin = config.connect().await?;
    if args.demo {
        admin
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS tusk_cdc_demo (id int4 PRIMARY KEY, name text); \
                 DROP PUBLICATION IF EXISTS tusk_cdc_demo; \
                 CREATE PUBLICATION tusk_cdc_demo FOR TABLE tusk_cdc_demo",
            )
            .await?;
    }
    let exists = admin
        .query_opt(
            "SELECT 1 FROM pg_publication WHERE pubname = $1",
            &[&args.publication],
        )
        .await?
        .is_some();
    if !exists {
        let quoted = args.publication.replace('"', "\"\"");
        admin
            .batch_execute(&format!("CREATE PUBLICATION \"{quoted}\" FOR ALL TABLES"))
            .await?;
        eprintln!("created publication {:?} FOR ALL TABLES", args.publication);
    }

    // The slot and the stream, on a logical replication connection.
    let mut client = ReplicationClient::connect_logical(&config).await?;
    let slot = match &args.slot {
        Some(name) => {
            let missing = admin
                .query_opt(
                    "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1",
                    &[name],
                )
                .await?
                .is_none();
            if missing {
                let options = SlotOptions::logical().snapshot(SnapshotAction::Nothing);
                client.create_replication_slot(name, &options).await?;
                eprintln!("created slot {name}");
            }
            name.clone()
        }
        None => {
            let name = format!("tusk_cdc_{}", std::process::id());
            let options = SlotOptions::logical()
                .temporary(true)
                .snapshot(SnapshotAction::Nothing);
            client.create_replication_slot(&name, &options).await?;
            name
        }
    };
    let options = PgOutputOptions::new([args.publication.as_str()]).messages(true);
    let mut stream = client.start_pgoutput(&slot, Lsn::INVALID, &options).await?;

    // The demo's writes, from a second connection.
    let demo = args.demo.then(|| {
        let config = config.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut conn = config.connect().await?;
            for sql in [
                "INSERT INTO tusk_cdc_demo VALUES (1, 'ada'), (2, 'grace')",
                "UPDATE tusk_cdc_demo SET name = 'Ada Lovelace' WHERE id = 1",
                "DELETE FROM tusk_cdc_demo WHERE id = 2",
            ] {
                conn.batch_execute(sql).await?;
            }
            Ok::<_, tusk::Error>(())
        })
    });
    // The demo writes three transactions (one per statement).
    let mut commits_left = if args.demo { Some(3) } else { None };

    while let Some(change) = stream.next().await? {
        if let Some(line) = change_json(&change, stream.last_lsn())? {
            println!("{line}");
        }
        if let Change::Commit { end_lsn, .. } = change {
            // Printed: the server may forget this transaction.
            stream.confirm(end_lsn);
            if let Some(left) = &mut commits_left {
                *left -= 1;
                if *left == 0 {
                    break;
                }
            }
        }
    }
    stream.stop().await?;
    if let Some(demo) = demo {
        demo.await??;
        admin
            .batch_execute("DROP PUBLICATION tusk_cdc_demo; DROP TABLE tusk_cdc_demo")
            .await?;
    }
    client.close().await?;
    Ok(())
}
