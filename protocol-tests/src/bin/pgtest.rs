//! `pgtest`: replays pgtest scenario files (CockroachDB's pgwire test format) against a
//! PostgreSQL server and reports PASS / FAIL per step; `--rewrite` records the expected outputs
//! from the server instead. See `protocol-tests/pgtest/README.md`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use protocol_tests::pgtest::{run_all, scenario_files, Target};

const USAGE: &str = "\
usage: pgtest [OPTIONS] FILE_OR_DIR...

Replays pgtest scenario files against a PostgreSQL server; a directory means its *.pgtest files.
Prints PASS/FAIL/SKIP file:line directive per step, a diff for each failure, and exits 1 if any
step failed.

options:
  --addr HOST:PORT      the server (default 127.0.0.1:5432)
  --user U              role to log in as (default: $PGUSER, else $USER)
  --password P          password, if the server asks (default: $PGPASSWORD)
  --dbname D            database (default: the server's, i.e. the user name)
  --conninfo STR        a libpq key=value string or postgres:// URL giving any of the above
                        (explicit options win)
  --param NAME=VALUE    an extra startup parameter (repeatable), e.g. --param TimeZone=UTC
  --timeout SECS        longest wait for the server in a step (default 10)
  --connect-timeout SECS  longest wait for a connection, authentication included (default 10)
  --rewrite             write each file's expected blocks from the server's answers
  -h, --help            this text
";

fn main() -> ExitCode {
    match parse(std::env::args().skip(1).collect()) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Run {
            target,
            rewrite,
            paths,
        }) => run(&target, rewrite, &paths),
        Err(message) => {
            eprintln!("pgtest: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(target: &Target, rewrite: bool, paths: &[PathBuf]) -> ExitCode {
    let files = match scenario_files(paths) {
        Ok(files) if files.is_empty() => {
            eprintln!("pgtest: no scenario files in {paths:?}");
            return ExitCode::from(2);
        }
        Ok(files) => files,
        Err(e) => {
            eprintln!("pgtest: cannot list the scenario files: {e}");
            return ExitCode::from(2);
        }
    };
    let totals = run_all(&files, target, rewrite, |report| {
        print!("{}", report.render());
    });
    println!("pgtest: {totals}");
    if totals.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

enum Command {
    Help,
    Run {
        target: Target,
        rewrite: bool,
        paths: Vec<PathBuf>,
    },
}

/// The command line: options (in any order, `--opt value` or `--opt=value`) and paths.
fn parse(args: Vec<String>) -> Result<Command, String> {
    let mut addr = None;
    let mut user = None;
    let mut password = None;
    let mut dbname = None;
    let mut conninfo = None;
    let mut params = Vec::new();
    let mut timeout = Duration::from_secs(10);
    let mut connect_timeout = Duration::from_secs(10);
    let mut rewrite = false;
    let mut paths = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs {what}"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--rewrite" => rewrite = true,
            "--addr" => addr = Some(value("HOST:PORT")?),
            "--user" => user = Some(value("a role name")?),
            "--password" => password = Some(value("a password")?),
            "--dbname" => dbname = Some(value("a database name")?),
            "--conninfo" => conninfo = Some(value("a connection string")?),
            "--param" => {
                let param = value("NAME=VALUE")?;
                let (n, v) = param
                    .split_once('=')
                    .ok_or_else(|| format!("--param {param:?} is not NAME=VALUE"))?;
                params.push((n.to_owned(), v.to_owned()));
            }
            "--timeout" => timeout = seconds(&name, &value("seconds")?)?,
            "--connect-timeout" => connect_timeout = seconds(&name, &value("seconds")?)?,
            other if other.starts_with('-') && other != "-" => {
                return Err(format!("unknown option {other}"))
            }
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    if paths.is_empty() {
        return Err("no scenario file or directory given".into());
    }
    let mut target = Target {
        host: "127.0.0.1".into(),
        port: 5432,
        user: std::env::var("PGUSER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "postgres".into()),
        password: std::env::var("PGPASSWORD").ok(),
        dbname: None,
        params,
        timeout,
        connect_timeout,
    };
    if let Some(conninfo) = conninfo {
        apply_conninfo(&mut target, &conninfo)?;
    }
    if let Some(addr) = addr {
        let (host, port) = addr
            .rsplit_once(':')
            .ok_or_else(|| format!("--addr {addr:?} is not HOST:PORT"))?;
        target.host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        target.port = port
            .parse()
            .map_err(|_| format!("--addr {addr:?}: {port:?} is not a port number"))?;
    }
    if let Some(user) = user {
        target.user = user;
    }
    if let Some(password) = password {
        target.password = Some(password);
    }
    if let Some(dbname) = dbname {
        target.dbname = Some(dbname);
    }
    Ok(Command::Run {
        target,
        rewrite,
        paths,
    })
}

/// A positive number of seconds below a million.
fn seconds(option: &str, text: &str) -> Result<Duration, String> {
    text.parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s < 1e6)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{option} {text:?} is not a positive number of seconds"))
}

/// Takes host, port, user, password and dbname from a libpq connection string or URL (parsed
/// by `tusk::Config`); the first host and port when several are given.
fn apply_conninfo(target: &mut Target, conninfo: &str) -> Result<(), String> {
    let config: tusk::Config = conninfo.parse().map_err(|e| format!("--conninfo: {e}"))?;
    match config.get_hosts().first() {
        Some(tusk::Host::Tcp(host)) => target.host = host.clone(),
        Some(tusk::Host::Unix(dir)) => {
            return Err(format!(
                "--conninfo: pgtest connects over TCP only, not to the socket directory {}",
                dir.display()
            ))
        }
        None => {}
    }
    if let Some(port) = config.get_ports().first() {
        target.port = *port;
    }
    if let Some(user) = config.get_user() {
        target.user = user.to_owned();
    }
    if let Some(password) = config.get_password() {
        target.password = Some(String::from_utf8_lossy(password).into_owned());
    }
    if let Some(dbname) = config.get_dbname() {
        target.dbname = Some(dbname.to_owned());
    }
    Ok(())
}
