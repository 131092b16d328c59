//! The command line, run as a separate process on the same database as a
//! running server.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::*;

fn omakase(
    dir: &std::path::Path,
    base: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_omakase"));
    cmd.args(args)
        .env("OMAKASE_DATA_DIR", dir)
        .env("OMAKASE_BASE_URL", base)
        .env_remove("OMAKASE_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Ok(url) = std::env::var("TEST_CLI_DATABASE_URL") {
        cmd.env("OMAKASE_DATABASE_URL", url);
    }
    let mut child = cmd.spawn().expect("spawn omakase");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_registers_users_and_services_that_the_running_server_sees() {
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        // The command line is exercised on the SQLite file; the PostgreSQL
        // run covers the same code through the library.
        return;
    }
    let app = TestApp::spawn();
    let dir = app._dir.path().to_path_buf();
    let base = app.base.clone();
    let (ok, out, err) = omakase(
        &dir,
        &base,
        &[
            "user",
            "add",
            "taro",
            "--password-stdin",
            "--email",
            "taro@example.com",
            "--name",
            "山田 太郎",
        ],
        Some("a-good-long-password\n"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("created user taro"));
    let (ok, _, err) = omakase(
        &dir,
        &base,
        &["user", "add", "taro", "--password-stdin"],
        Some("another-password"),
    );
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");
    let (ok, _, err) = omakase(
        &dir,
        &base,
        &["user", "add", "bad name", "--password-stdin"],
        Some("pw-long-enough"),
    );
    assert!(!ok);
    assert!(err.contains("invalid user name"), "{err}");
    let sp = SpFixture::new("wiki");
    let file = dir.join("sp.xml");
    std::fs::write(&file, sp.metadata(false)).expect("write");
    let (ok, out, err) = omakase(
        &dir,
        &base,
        &[
            "sp",
            "import",
            file.to_str().expect("p"),
            "--name",
            "社内Wiki",
        ],
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim().lines().last(), Some(sp.entity_id.as_str()));
    let (ok, out, _) = omakase(&dir, &base, &["sp", "assign", &sp.entity_id, "taro"], None);
    assert!(ok);
    assert!(out.contains("1 new assignment"));
    let (ok, out, _) = omakase(&dir, &base, &["sp", "list"], None);
    assert!(ok);
    assert!(out.contains(&sp.entity_id) && out.contains("社内Wiki") && out.contains("users: 1"));
    // The running server sees both without a restart.
    let mut b = app.browser();
    let r = b.login_at("/login", "taro", "a-good-long-password");
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(b.get("/").body.contains("社内Wiki"));
    // The password given on the command line is final: no forced change.
    assert_eq!(b.get("/profile").status, 200);
    // Errors: exit non-zero with a message.
    let (ok, _, err) = omakase(&dir, &base, &["sp", "import", "/no/such/file.xml"], None);
    assert!(!ok && err.contains("cannot read"), "{err}");
    let bad = dir.join("bad.xml");
    std::fs::write(&bad, "<!DOCTYPE x><x/>").expect("write");
    let (ok, _, err) = omakase(
        &dir,
        &base,
        &["sp", "import", bad.to_str().expect("p")],
        None,
    );
    assert!(!ok && err.contains("invalid metadata"), "{err}");
    let (ok, _, err) = omakase(
        &dir,
        &base,
        &["sp", "assign", "https://nope.example/", "taro"],
        None,
    );
    assert!(!ok && err.contains("no such service"), "{err}");
    let (ok, _, err) = omakase(&dir, &base, &["sp", "assign", &sp.entity_id], None);
    assert!(!ok && err.contains("--all-users"), "{err}");
    let (ok, _, err) = omakase(
        &dir,
        &base,
        &["user", "set-password", "taro", "--password-stdin"],
        Some("a-newer-long-password"),
    );
    assert!(ok, "{err}");
    let mut b2 = app.browser();
    assert_eq!(
        b2.login_at("/login", "taro", "a-newer-long-password")
            .status,
        303
    );
    let (ok, _, err) = omakase(&dir, "not a url", &["sp", "list"], None);
    assert!(!ok && err.contains("base_url"), "{err}");
}

#[test]
fn cli_imports_metadata_from_a_url_and_migrate_is_idempotent() {
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        return;
    }
    let app = TestApp::spawn();
    let dir = app._dir.path().to_path_buf();
    let sp = SpFixture::new("remote");
    let url = serve_once(sp.metadata(false));
    let (ok, out, err) = omakase(&dir, &app.base, &["sp", "import", &url], None);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), sp.entity_id);
    let (ok, out, _) = omakase(&dir, &app.base, &["sp", "list"], None);
    assert!(ok);
    // Without --name the host of the entity ID is the display name.
    assert!(out.contains("\tremote.example\t"), "{out}");
    let (ok, _, err) = omakase(
        &dir,
        &app.base,
        &["sp", "import", "http://127.0.0.1:9/none"],
        None,
    );
    assert!(!ok && err.contains("cannot read"), "{err}");
    let (ok, out, err) = omakase(&dir, &app.base, &["migrate"], None);
    assert!(ok, "{err}");
    assert!(out.contains("applied 0 migration(s)"), "{out}");
}
