use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{tcp, unix};
use crate::config::pgpass::{find_password, lookup};
use crate::config::{Config, Host, Resolved};

/// `config` resolved for user `u` and database `d`.
fn resolved(config: Config) -> Resolved {
    config
        .user("u")
        .dbname("d")
        .resolve_with(&|_| None, &|_| false)
        .unwrap()
}

/// The password `config` gives target `h:1`.
fn password(config: Config, home: Option<&Path>) -> Option<Vec<u8>> {
    let host: Host = tcp("h");
    resolved(config).password_for_with(&host, 1, home)
}

/// A password file in the temp directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(contents: &str, mode: u32) -> TempFile {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "tusk-pgpass-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, contents).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        #[cfg(not(unix))]
        let _ = mode;
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn find(contents: &str, host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    find_password(contents.as_bytes(), host, port, db, user).map(|p| String::from_utf8(p).unwrap())
}

#[test]
fn exact_match_and_first_match_wins() {
    let file = "h:5432:db:u:first\nh:5432:db:u:second\n";
    assert_eq!(find(file, "h", 5432, "db", "u").as_deref(), Some("first"));
    assert_eq!(find(file, "h", 5433, "db", "u"), None);
    assert_eq!(find(file, "other", 5432, "db", "u"), None);
    assert_eq!(find(file, "h", 5432, "db2", "u"), None);
    assert_eq!(find(file, "h", 5432, "db", "v"), None);
}

#[test]
fn wildcards() {
    let file = "specific:5432:db:u:one\n*:*:*:u:two\n*:5433:*:*:three\n";
    assert_eq!(
        find(file, "specific", 5432, "db", "u").as_deref(),
        Some("one")
    );
    assert_eq!(find(file, "any", 1, "any", "u").as_deref(), Some("two"));
    assert_eq!(find(file, "any", 5433, "x", "v").as_deref(), Some("three"));
    assert_eq!(find(file, "any", 5432, "x", "v"), None);
    // Only a field that is exactly '*' is a wildcard.
    assert_eq!(find("h*:*:*:*:pw", "host", 1, "d", "u"), None);
    assert_eq!(find(r"\*:*:*:*:pw", "x", 1, "d", "u"), None);
    assert_eq!(
        find(r"\*:*:*:*:pw", "*", 1, "d", "u").as_deref(),
        Some("pw")
    );
}

#[test]
fn escapes() {
    let file = r"h:5432:my\:db:dom\\user:pa\:ss\\word";
    assert_eq!(
        find(file, "h", 5432, "my:db", r"dom\user").as_deref(),
        Some(r"pa:ss\word")
    );
    // The password ends at an unescaped ':'.
    assert_eq!(
        find("h:1:d:u:pw:extra", "h", 1, "d", "u").as_deref(),
        Some("pw")
    );
    // A socket directory path with its ':' escaped.
    assert_eq!(
        find(r"/odd\:dir:1:d:u:pw", "/odd:dir", 1, "d", "u").as_deref(),
        Some("pw")
    );
}

#[test]
fn comments_blank_lines_short_lines_and_crlf() {
    let file = "# h:1:d:u:commented\n\nh:1:d\nh:1:d:u\nh:1:d:u:real\r\n";
    assert_eq!(find(file, "h", 1, "d", "u").as_deref(), Some("real"));
    // An empty password on the first match means no password.
    assert_eq!(find("h:1:d:u:\nh:1:d:u:later", "h", 1, "d", "u"), None);
}

#[test]
fn socket_hosts_match_localhost() {
    let file = TempFile::new("localhost:5432:d:u:local\n/srv/pg:5432:d:u:custom\n", 0o600);
    for dir in ["/var/run/postgresql", "/run/postgresql", "/tmp", "/tmp/"] {
        assert_eq!(
            lookup(&file.0, &unix(dir), 5432, "d", "u").as_deref(),
            Some(&b"local"[..]),
            "{dir}"
        );
    }
    assert_eq!(
        lookup(&file.0, &tcp("localhost"), 5432, "d", "u").as_deref(),
        Some(&b"local"[..])
    );
    // Another directory matches by its path, as in libpq.
    assert_eq!(
        lookup(&file.0, &unix("/srv/pg"), 5432, "d", "u").as_deref(),
        Some(&b"custom"[..])
    );
    assert_eq!(lookup(&file.0, &unix("/elsewhere"), 5432, "d", "u"), None);
}

#[cfg(unix)]
#[test]
fn group_or_world_access_is_refused() {
    for mode in [0o640, 0o604, 0o620, 0o610, 0o601] {
        let file = TempFile::new("*:*:*:*:pw\n", mode);
        assert_eq!(lookup(&file.0, &tcp("h"), 1, "d", "u"), None, "{mode:o}");
    }
    for mode in [0o600, 0o400] {
        let file = TempFile::new("*:*:*:*:pw\n", mode);
        assert_eq!(
            lookup(&file.0, &tcp("h"), 1, "d", "u").as_deref(),
            Some(&b"pw"[..]),
            "{mode:o}"
        );
    }
}

#[test]
fn missing_file_and_directories_give_no_password() {
    let missing = std::env::temp_dir().join("tusk-pgpass-test-does-not-exist");
    assert_eq!(lookup(&missing, &tcp("h"), 1, "d", "u"), None);
    assert_eq!(lookup(&std::env::temp_dir(), &tcp("h"), 1, "d", "u"), None);
}

#[test]
fn password_for_prefers_the_explicit_password() {
    let file = TempFile::new("*:*:*:*:from-file\n", 0o600);
    let with_file = Config::new().passfile(&file.0);
    assert_eq!(
        password(with_file.clone(), None),
        Some(b"from-file".to_vec())
    );
    assert_eq!(
        password(with_file.clone().password("explicit"), None),
        Some(b"explicit".to_vec())
    );
    // An empty password counts as none, so the file is read.
    assert_eq!(
        password(with_file.password(""), None),
        Some(b"from-file".to_vec())
    );
}

#[test]
fn password_for_uses_home_pgpass_without_a_passfile() {
    let home = std::env::temp_dir().join(format!("tusk-pgpass-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let file = home.join(".pgpass");
    std::fs::write(&file, "h:1:d:u:home-pw\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let found = password(Config::new(), Some(&home));
    let none = password(Config::new(), None);
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_dir(&home);
    assert_eq!(found, Some(b"home-pw".to_vec()));
    assert_eq!(none, None);
    // A passfile that is set wins over $HOME/.pgpass.
    let other = Config::new().passfile(Path::new("/nonexistent/tusk-pgpass"));
    assert_eq!(password(other, Some(&home)), None);
}
