//! [`PgOutputOptions`]: the `pgoutput` plugin's START_REPLICATION options, built safely (each
//! publication name quoted as an identifier inside the `publication_names` list, the list and
//! every value sent as a string literal by [`LogicalOptions`]).

use super::commands::LogicalOptions;
use crate::client::check_identifier;
use crate::error::Error;

/// `streaming`: whether in-progress transactions are sent before they commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Streaming {
    /// Only committed transactions (the default).
    #[default]
    Off,
    /// Large in-progress transactions are streamed (protocol version 2+, PostgreSQL 14+).
    On,
    /// Streamed for parallel apply (protocol version 4, PostgreSQL 16+).
    Parallel,
}

/// The options of a `pgoutput` stream.
///
/// ```
/// use tusk::replication::{PgOutputOptions, Streaming};
///
/// let options = PgOutputOptions::new(["orders", "Customers"])
///     .proto_version(2)
///     .streaming(Streaming::On)
///     .messages(true);
/// assert_eq!(options.version(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOutputOptions {
    proto_version: u32,
    publications: Vec<String>,
    binary: bool,
    messages: bool,
    streaming: Streaming,
    two_phase: bool,
    origin: Option<String>,
}

impl PgOutputOptions {
    /// Protocol version 1 for the publications named (at least one; names as created, case
    /// and all).
    pub fn new<I, S>(publications: I) -> PgOutputOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PgOutputOptions {
            proto_version: 1,
            publications: publications.into_iter().map(Into::into).collect(),
            binary: false,
            messages: false,
            streaming: Streaming::Off,
            two_phase: false,
            origin: None,
        }
    }

    /// `proto_version`: 1 (PostgreSQL 10+), 2 (14+, streaming), 3 (15+, two-phase), 4 (16+,
    /// parallel streaming).
    pub fn proto_version(mut self, version: u32) -> PgOutputOptions {
        self.proto_version = version;
        self
    }

    /// The protocol version the stream will use.
    pub fn version(&self) -> u32 {
        self.proto_version
    }

    /// `binary`: values in their binary format where the type has one (PostgreSQL 14+).
    pub fn binary(mut self, binary: bool) -> PgOutputOptions {
        self.binary = binary;
        self
    }

    /// `messages`: include `pg_logical_emit_message` messages (PostgreSQL 14+).
    pub fn messages(mut self, messages: bool) -> PgOutputOptions {
        self.messages = messages;
        self
    }

    /// `streaming`: send in-progress transactions.
    pub fn streaming(mut self, streaming: Streaming) -> PgOutputOptions {
        self.streaming = streaming;
        self
    }

    /// `two_phase`: decode prepared transactions at PREPARE (protocol version 3+).
    pub fn two_phase(mut self, two_phase: bool) -> PgOutputOptions {
        self.two_phase = two_phase;
        self
    }

    /// `origin`: `any` or `none` (only changes without a replication origin; PostgreSQL 16+).
    pub fn origin(mut self, origin: &str) -> PgOutputOptions {
        self.origin = Some(origin.to_owned());
        self
    }

    /// The options as sent, after checking them: at least one publication, each name a valid
    /// identifier; the version and features consistent.
    pub fn to_logical_options(&self) -> Result<LogicalOptions, Error> {
        if !(1..=4).contains(&self.proto_version) {
            return Err(Error::usage(format!(
                "pgoutput proto_version {} is not one of 1 to 4",
                self.proto_version
            )));
        }
        if self.publications.is_empty() {
            return Err(Error::usage("pgoutput needs at least one publication name"));
        }
        let mut names = Vec::with_capacity(self.publications.len());
        for name in &self.publications {
            check_identifier("a publication name", name)?;
            // The server splits the list with SplitIdentifierString: quoted, `""` for `"`.
            names.push(format!("\"{}\"", name.replace('"', "\"\"")));
        }
        let needs = |feature: &str, version: u32| {
            Error::usage(format!(
                "pgoutput {feature} needs proto_version {version} or later, not {}",
                self.proto_version
            ))
        };
        let mut options = LogicalOptions::new()
            .option("proto_version", &self.proto_version.to_string())
            .option("publication_names", &names.join(","));
        if self.binary {
            options = options.option("binary", "true");
        }
        if self.messages {
            options = options.option("messages", "true");
        }
        match self.streaming {
            Streaming::Off => {}
            Streaming::On if self.proto_version < 2 => return Err(needs("streaming", 2)),
            Streaming::On => options = options.option("streaming", "on"),
            Streaming::Parallel if self.proto_version < 4 => {
                return Err(needs("parallel streaming", 4))
            }
            Streaming::Parallel => options = options.option("streaming", "parallel"),
        }
        if self.two_phase {
            if self.proto_version < 3 {
                return Err(needs("two_phase", 3));
            }
            options = options.option("two_phase", "on");
        }
        if let Some(origin) = &self.origin {
            options = options.option("origin", origin);
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::replication::Lsn;

    fn sql(options: &PgOutputOptions) -> String {
        let options = options.to_logical_options().unwrap();
        super::super::commands::start_logical_sql("s", Lsn(0), &options).unwrap()
    }

    #[test]
    fn options_are_sent_as_quoted_literals() {
        assert_eq!(
            sql(&PgOutputOptions::new(["p"])),
            "START_REPLICATION SLOT \"s\" LOGICAL 0/0 (\"proto_version\" '1', \
             \"publication_names\" '\"p\"')"
        );
        assert_eq!(
            sql(&PgOutputOptions::new(["a", "B c", "it's \"q\""])
                .proto_version(4)
                .binary(true)
                .messages(true)
                .streaming(Streaming::Parallel)
                .two_phase(true)
                .origin("none")),
            "START_REPLICATION SLOT \"s\" LOGICAL 0/0 (\"proto_version\" '4', \
             \"publication_names\" '\"a\",\"B c\",\"it''s \"\"q\"\"\"', \"binary\" 'true', \
             \"messages\" 'true', \"streaming\" 'parallel', \"two_phase\" 'on', \
             \"origin\" 'none')"
        );
    }

    #[test]
    fn inconsistent_options_are_refused_naming_the_problem() {
        for (options, needle) in [
            (PgOutputOptions::new(Vec::<String>::new()), "at least one"),
            (PgOutputOptions::new([""]), "cannot be empty"),
            (PgOutputOptions::new(["a\0"]), "NUL"),
            (PgOutputOptions::new(["x".repeat(64)]), "64 bytes"),
            (PgOutputOptions::new(["p"]).proto_version(5), "1 to 4"),
            (
                PgOutputOptions::new(["p"]).streaming(Streaming::On),
                "streaming needs proto_version 2",
            ),
            (
                PgOutputOptions::new(["p"])
                    .proto_version(3)
                    .streaming(Streaming::Parallel),
                "parallel streaming needs proto_version 4",
            ),
            (
                PgOutputOptions::new(["p"]).proto_version(2).two_phase(true),
                "two_phase needs proto_version 3",
            ),
        ] {
            let e = options.to_logical_options().unwrap_err();
            assert_eq!(e.kind(), crate::Kind::Usage);
            assert!(e.to_string().contains(needle), "{needle}: {e}");
        }
    }
}
