//! W5: load rows of (int8, text, float8, timestamptz) with each driver's typed binary COPY
//! writer (tusk's `BinaryCopyIn`, tokio-postgres's `BinaryCopyInWriter`; sqlx has only a raw
//! byte COPY, so it sits this one out).

use chrono::{DateTime, Duration as ChronoDuration, TimeZone, Utc};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type as TpType;
use tusk::types::Type;

use crate::drivers::Target;
use crate::measure::{measure, repeat_for, Driver, Outcome};
use crate::{BoxError, Settings};

const CREATE: &str = "CREATE UNLOGGED TABLE IF NOT EXISTS tusk_bench_load \
                      (id int8, name text, score float8, at timestamptz)";
const COPY: &str = "COPY tusk_bench_load (id, name, score, at) FROM STDIN (FORMAT binary)";

/// The rows every driver loads, built once so no driver pays for making them.
struct Rows {
    ids: Vec<i64>,
    names: Vec<String>,
    scores: Vec<f64>,
    ats: Vec<DateTime<Utc>>,
}

impl Rows {
    fn new(n: usize) -> Rows {
        let base = Utc
            .with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        Rows {
            ids: (0..n as i64).collect(),
            names: (0..n).map(|i| format!("name-{i:08}-é")).collect(),
            scores: (0..n).map(|i| i as f64 * 0.5).collect(),
            ats: (0..n as i64)
                .map(|i| base + ChronoDuration::seconds(i))
                .collect(),
        }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// W5: binary COPY of `settings.rows` rows, TRUNCATE included in every load for both drivers.
pub async fn copy_load(target: &Target, settings: &Settings) -> Result<Outcome, BoxError> {
    let mut c = target.connect_all().await?;
    c.tusk.batch_execute(CREATE).await?;
    let n = usize::try_from(settings.rows)?;
    let rows = Rows::new(n);
    let tusk_types = [Type::INT8, Type::TEXT, Type::FLOAT8, Type::TIMESTAMPTZ];
    let tp_types = [
        TpType::INT8,
        TpType::TEXT,
        TpType::FLOAT8,
        TpType::TIMESTAMPTZ,
    ];
    let drivers = [Driver::Tusk, Driver::TokioPostgres];
    let results = measure(&drivers, settings, async |driver, budget| match driver {
        Driver::Tusk => {
            repeat_for(budget, async || {
                c.tusk.batch_execute("TRUNCATE tusk_bench_load").await?;
                let sink = c.tusk.copy_in(COPY).await?;
                let mut writer = tusk::BinaryCopyIn::new(sink, &tusk_types);
                for i in 0..rows.len() {
                    writer
                        .write(&[&rows.ids[i], &rows.names[i], &rows.scores[i], &rows.ats[i]])
                        .await?;
                }
                loaded(writer.finish().await?, n)
            })
            .await
        }
        Driver::TokioPostgres => {
            repeat_for(budget, async || {
                c.tp.client
                    .batch_execute("TRUNCATE tusk_bench_load")
                    .await?;
                let sink = c.tp.client.copy_in(COPY).await?;
                let writer = BinaryCopyInWriter::new(sink, &tp_types);
                let mut writer = std::pin::pin!(writer);
                for i in 0..rows.len() {
                    writer
                        .as_mut()
                        .write(&[&rows.ids[i], &rows.names[i], &rows.scores[i], &rows.ats[i]])
                        .await?;
                }
                loaded(writer.finish().await?, n)
            })
            .await
        }
        Driver::Sqlx => Err("sqlx has no typed binary COPY writer".into()),
    })
    .await?;
    c.tusk.batch_execute("DROP TABLE tusk_bench_load").await?;
    c.close().await?;
    let mut outcome = Outcome::new(
        "W5",
        &format!("binary COPY in of {} rows", crate::thousands(n as i64)),
        "row",
        results,
    );
    outcome.missing[2] = Some("no binary writer");
    Ok(outcome)
}

/// One load's row count, checked against what was written.
fn loaded(reported: u64, expected: usize) -> Result<u64, BoxError> {
    if usize::try_from(reported) == Ok(expected) {
        Ok(reported)
    } else {
        Err(format!("COPY reported {reported} rows, {expected} were written").into())
    }
}
