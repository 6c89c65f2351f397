//! The connection service file: lookup order, precedence, errors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{parse, tcp};
use crate::config::{Config, SslMode};
use crate::Kind;

/// A temporary directory standing in for HOME and PGSYSCONFDIR, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Dir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "tusk-service-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn text(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.get(name).cloned()
}

fn err_text(result: Result<Config, crate::Error>) -> String {
    let err = result.unwrap_err();
    assert_eq!(err.kind(), Kind::Config, "{err}");
    err.to_string()
}

const USER_FILE: &str = "\
# the user's services
[app]
host = userhost
port=6001
  dbname = appdb  
sslmode=disable

[other]
host=otherhost
";

#[test]
fn user_file_in_home() {
    let home = Dir::new();
    let sys = Dir::new();
    home.write(".pg_service.conf", USER_FILE);
    let c = parse("service=app")
        .fill_from(env(&[
            ("HOME", &home.text()),
            ("PGSYSCONFDIR", &sys.text()),
        ]))
        .unwrap();
    assert_eq!(c.get_hosts(), [tcp("userhost")]);
    assert_eq!(c.get_ports(), [6001]);
    assert_eq!(c.get_dbname(), Some("appdb"));
    assert_eq!(c.get_ssl_mode(), SslMode::Disable);
    assert_eq!(c.get_service(), Some("app"));
}

#[test]
fn precedence_string_then_service_then_environment() {
    let home = Dir::new();
    let sys = Dir::new();
    home.write(".pg_service.conf", USER_FILE);
    let vars = [
        ("HOME", home.text()),
        ("PGSYSCONFDIR", sys.text()),
        ("PGHOST", "envhost".to_owned()),
        ("PGDATABASE", "envdb".to_owned()),
        ("PGUSER", "envuser".to_owned()),
    ];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let c = parse("service=app dbname=stringdb")
        .fill_from(env(&vars))
        .unwrap();
    assert_eq!(c.get_dbname(), Some("stringdb"), "the string wins");
    assert_eq!(c.get_hosts(), [tcp("userhost")], "the service beats PGHOST");
    assert_eq!(
        c.get_user(),
        Some("envuser"),
        "the environment fills the rest"
    );
    // A setting given empty keeps the service file out too.
    let c = parse("service=app host=''").fill_from(env(&vars)).unwrap();
    assert!(c.get_hosts().is_empty());
}

#[test]
fn pgservice_names_the_service_when_none_is_given() {
    let home = Dir::new();
    let sys = Dir::new();
    home.write(".pg_service.conf", USER_FILE);
    let lookup = env(&[
        ("HOME", &home.text()),
        ("PGSYSCONFDIR", &sys.text()),
        ("PGSERVICE", "other"),
    ]);
    let c = Config::new().fill_from(&lookup).unwrap();
    assert_eq!(c.get_hosts(), [tcp("otherhost")]);
    assert_eq!(c.get_service(), Some("other"));
    // An explicit service wins over PGSERVICE.
    let c = parse("service=app").fill_from(&lookup).unwrap();
    assert_eq!(c.get_hosts(), [tcp("userhost")]);
}

#[test]
fn system_file_and_pgservicefile() {
    let home = Dir::new();
    let sys = Dir::new();
    home.write(".pg_service.conf", USER_FILE);
    sys.write(
        "pg_service.conf",
        "[app]\nhost=syshost\n[sysonly]\nhost=sys2\n",
    );
    let base = [("HOME", home.text()), ("PGSYSCONFDIR", sys.text())];
    let base: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The user's file first; the system file only for services it lacks.
    let c = parse("service=app").fill_from(env(&base)).unwrap();
    assert_eq!(c.get_hosts(), [tcp("userhost")]);
    let c = parse("service=sysonly").fill_from(env(&base)).unwrap();
    assert_eq!(c.get_hosts(), [tcp("sys2")]);
    // PGSERVICEFILE replaces ~/.pg_service.conf.
    let custom = home.write("custom.conf", "[app]\nhost=customhost\n");
    let mut vars = base.clone();
    let custom_text = custom.to_string_lossy().into_owned();
    vars.push(("PGSERVICEFILE", &custom_text));
    let c = parse("service=app").fill_from(env(&vars)).unwrap();
    assert_eq!(c.get_hosts(), [tcp("customhost")]);
    // A PGSERVICEFILE that does not exist is skipped when the system file has the service...
    let missing = home.0.join("missing.conf");
    let missing_text = missing.to_string_lossy().into_owned();
    let mut vars = base.clone();
    vars.push(("PGSERVICEFILE", &missing_text));
    let c = parse("service=sysonly").fill_from(env(&vars)).unwrap();
    assert_eq!(c.get_hosts(), [tcp("sys2")]);
    // ...and named in the error when no file has it.
    let e = err_text(parse("service=nowhere").fill_from(env(&vars)));
    assert!(
        e.contains("definition of service \"nowhere\" not found")
            && e.contains("missing.conf\" (PGSERVICEFILE), which does not exist"),
        "{e}"
    );
}

#[test]
fn missing_services_and_files() {
    let home = Dir::new();
    let sys = Dir::new();
    // No file at all: only an error because a service was asked for.
    let vars = [("HOME", home.text()), ("PGSYSCONFDIR", sys.text())];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let e = err_text(parse("service=x").fill_from(env(&vars)));
    assert!(e.contains("definition of service \"x\" not found"), "{e}");
    assert!(
        e.contains(".pg_service.conf") && e.contains("pg_service.conf"),
        "{e}"
    );
    Config::new().fill_from(env(&vars)).unwrap();
    // Present files without the section.
    home.write(".pg_service.conf", USER_FILE);
    let e = err_text(parse("service=x").fill_from(env(&vars)));
    assert!(e.contains("definition of service \"x\" not found"), "{e}");
    // service='' means none, in resolve too.
    parse("service=''").fill_from(env(&vars)).unwrap();
    parse("service='' user=u")
        .resolve_with(&env(&vars), &|_| false)
        .unwrap();
}

#[test]
fn errors_name_the_file_and_line() {
    let home = Dir::new();
    let sys = Dir::new();
    let vars = [("HOME", home.text()), ("PGSYSCONFDIR", sys.text())];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    home.write(".pg_service.conf", "[a]\nhost=h\nservice=b\n");
    let e = err_text(parse("service=a").fill_from(env(&vars)));
    assert!(
        e.contains("nested service") && e.contains(".pg_service.conf\", line 3"),
        "{e}"
    );
    home.write(".pg_service.conf", "# c\n[a]\nport=notaport\n");
    let e = err_text(parse("service=a").fill_from(env(&vars)));
    assert!(
        e.contains("invalid port number \"notaport\"") && e.contains("line 3"),
        "{e}"
    );
    home.write(".pg_service.conf", "[a]\nbogus=1\n");
    let e = err_text(parse("service=a").fill_from(env(&vars)));
    assert!(e.contains("\"bogus\"") && e.contains("line 2"), "{e}");
    // An error in the system file is reported the same way.
    home.write(".pg_service.conf", "");
    sys.write("pg_service.conf", "[a]\n\nno equals sign\n");
    let e = err_text(parse("service=a").fill_from(env(&vars)));
    assert!(e.contains("pg_service.conf\", line 3"), "{e}");
}

#[test]
fn expansion_is_idempotent_and_happens_in_resolve() {
    let home = Dir::new();
    let sys = Dir::new();
    home.write(
        ".pg_service.conf",
        "[app]\nhost=svchost\nuser=svcuser\nport=7\n",
    );
    let vars = [("HOME", home.text()), ("PGSYSCONFDIR", sys.text())];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let lookup = env(&vars);
    let once = parse("service=app").fill_from(&lookup).unwrap();
    let twice = once.clone().fill_from(&lookup).unwrap();
    assert_eq!(once, twice);
    // Once applied, the file is not read again: removing it changes nothing.
    std::fs::remove_file(home.0.join(".pg_service.conf")).unwrap();
    let r = once.resolve_with(&lookup, &|_| false).unwrap();
    assert_eq!(r.user, "svcuser");
    // A parsed string that never saw with_env_fallbacks is expanded by resolve.
    home.write(
        ".pg_service.conf",
        "[app]\nhost=svchost\nuser=svcuser\nport=7\n",
    );
    let r = parse("service=app port=8")
        .resolve_with(&lookup, &|_| false)
        .unwrap();
    assert_eq!(r.user, "svcuser");
    assert_eq!(
        (r.targets[0].host.clone(), r.targets[0].port),
        (tcp("svchost"), 8)
    );
    let e = parse("service=nope")
        .resolve_with(&lookup, &|_| false)
        .unwrap_err();
    assert!(e.to_string().contains("\"nope\" not found"), "{e}");
}

#[test]
fn passfile_from_the_service_is_used() {
    let home = Dir::new();
    let sys = Dir::new();
    let pass = home.write("pass", "*:*:*:*:from-service-passfile\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    home.write(
        ".pg_service.conf",
        &format!("[app]\npassfile={}\nuser=u\n", pass.display()),
    );
    let vars = [("HOME", home.text()), ("PGSYSCONFDIR", sys.text())];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = parse("service=app")
        .resolve_with(&env(&vars), &|_| false)
        .unwrap();
    assert_eq!(r.passfile.as_deref(), Some(Path::new(&pass)));
    assert_eq!(
        r.password_for_with(&tcp("h"), 5432, None),
        Some(b"from-service-passfile".to_vec())
    );
}
