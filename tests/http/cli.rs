//! The command line, run as a separate process on the same database as a
//! running server.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::*;

pub(crate) fn omakase(
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

#[test]
fn cli_admin_operations_users_groups_services_csv_audit() {
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        return;
    }
    let app = TestApp::spawn();
    app.add_user_as(
        "owner",
        "owner@example.com",
        "契約者",
        omakase::db::models::users::Role::Contractor,
    );
    let dir = app._dir.path().to_path_buf();
    let base = app.base.clone();
    let run = |args: &[&str]| omakase(&dir, &base, args, None);
    let (ok, _, err) = omakase(
        &dir,
        &base,
        &[
            "user",
            "add",
            "taro",
            "--password-stdin",
            "--name",
            "山田 太郎",
        ],
        Some("a-good-long-password"),
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(&[
        "user",
        "edit",
        "taro",
        "--email",
        "taro@example.com",
        "--department",
        "営業部",
        "--phone",
        "０３ー１２３４ー５６７８",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["user", "edit", "taro", "--phone", "12"]);
    assert!(!ok && err.contains("invalid phone number"), "{err}");
    let (_, out, _) = run(&["user", "list"]);
    assert!(
        out.contains("taro\t山田 太郎\ttaro@example.com\tuser\tactive"),
        "{out}"
    );
    // Lock and disable stop logins; the running server sees it at once.
    assert!(run(&["user", "lock", "taro"]).0);
    assert_eq!(
        app.browser()
            .login_at("/login", "taro", "a-good-long-password")
            .status,
        403
    );
    assert!(run(&["user", "unlock", "taro"]).0);
    assert_eq!(
        app.browser()
            .login_at("/login", "taro", "a-good-long-password")
            .status,
        303
    );
    assert!(run(&["user", "disable", "taro"]).0);
    assert_eq!(
        app.browser()
            .login_at("/login", "taro", "a-good-long-password")
            .status,
        401
    );
    assert!(run(&["user", "enable", "taro"]).0);
    assert!(run(&["user", "set-role", "taro", "admin"]).0);
    let mut b = app.browser();
    b.login_at("/login", "taro", "a-good-long-password");
    assert_eq!(b.get("/admin/users").status, 200);
    let (ok, _, err) = run(&["user", "set-role", "owner", "user"]);
    assert!(!ok && err.contains("last contractor"), "{err}");
    // Groups and services.
    let sp = SpFixture::new("wiki");
    let file = dir.join("sp.xml");
    std::fs::write(&file, sp.metadata(false)).expect("write");
    assert!(run(&["sp", "import", file.to_str().expect("p"), "--name", "Wiki"]).0);
    assert!(run(&["group", "add", "営業部"]).0);
    let (ok, _, err) = run(&["group", "add", "営業部"]);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, out, err) = run(&["group", "members", "営業部", "--add", "taro"]);
    assert!(ok && out.trim() == "taro", "{out}{err}");
    let (ok, out, _) = run(&["group", "services", "営業部", "--add", &sp.entity_id]);
    assert!(ok && out.contains("Wiki"));
    assert!(b.get("/").body.contains("Wiki"), "tile through the group");
    let (_, out, _) = run(&["sp", "list"]);
    assert!(out.contains("groups: 営業部"), "{out}");
    let (ok, _, err) = run(&["group", "remove", "営業部"]);
    assert!(!ok && err.contains("--yes"), "{err}");
    assert!(run(&["group", "remove", "営業部", "--yes"]).0);
    assert!(!b.get("/").body.contains("Wiki"));
    assert!(run(&["sp", "assign", &sp.entity_id, "taro"]).0);
    assert!(b.get("/").body.contains("Wiki"));
    assert!(run(&["sp", "unassign", &sp.entity_id, "taro"]).0);
    assert!(!b.get("/").body.contains("Wiki"));
    let changed = dir.join("sp2.xml");
    std::fs::write(
        &changed,
        sp.metadata(false)
            .replace(&sp.acs[1], "https://wiki.example/acs-new"),
    )
    .expect("write");
    assert!(run(&["sp", "update", &sp.entity_id, changed.to_str().expect("p")]).0);
    let other = dir.join("other.xml");
    std::fs::write(&other, SpFixture::new("other").metadata(false)).expect("write");
    let (ok, _, err) = run(&["sp", "update", &sp.entity_id, other.to_str().expect("p")]);
    assert!(!ok && err.contains("not "), "{err}");
    let (ok, _, err) = run(&["sp", "remove", &sp.entity_id]);
    assert!(!ok && err.contains("--yes"), "{err}");
    assert!(run(&["sp", "remove", &sp.entity_id, "--yes"]).0);
    let (_, out, _) = run(&["sp", "list"]);
    assert!(!out.contains(&sp.entity_id));
    // CSV: dry run, a bad file applies nothing, then a good one.
    let csv = dir.join("users.csv");
    std::fs::write(
        &csv,
        "username,display_name,email\nsato,佐藤 花子,sato@example.com\nbad name,X,\n",
    )
    .expect("write");
    let (ok, out, err) = run(&["csv", "import", csv.to_str().expect("p")]);
    assert!(!ok && err.contains("nothing was imported"), "{out}{err}");
    assert!(out.contains("line 3\tbad name\terror"), "{out}");
    std::fs::write(
        &csv,
        "\u{FEFF}username,display_name,email\r\nsato,佐藤 花子,sato@example.com\r\n",
    )
    .expect("write");
    let (ok, out, _) = run(&["csv", "import", csv.to_str().expect("p"), "--dry-run"]);
    assert!(ok && out.contains("dry run"), "{out}");
    let (_, out, _) = run(&["user", "list"]);
    assert!(!out.contains("sato"));
    let (ok, out, err) = run(&["csv", "import", csv.to_str().expect("p")]);
    assert!(ok, "{err}");
    assert!(out.contains("one-time password\tsato\t"), "{out}");
    let export = dir.join("export.csv");
    assert!(run(&["csv", "export", "-o", export.to_str().expect("p")]).0);
    let text = std::fs::read_to_string(&export).expect("read");
    assert!(text.starts_with('\u{FEFF}') && text.contains("sato,sato@example.com,佐藤 花子"));
    // Delete needs --yes; the audit export has every CLI action, no password.
    let (ok, _, _) = run(&["user", "delete", "sato"]);
    assert!(!ok);
    assert!(run(&["user", "delete", "sato", "--yes"]).0);
    let (ok, out, _) = run(&["audit", "export", "--kind", "cli"]);
    assert!(ok);
    for kind in [
        "cli.user.add",
        "cli.user.edit",
        "cli.user.lock",
        "cli.user.set_role",
        "cli.group.add_member",
        "cli.service.remove",
        "cli.csv.import",
        "cli.user.delete",
    ] {
        assert!(out.contains(kind), "audit has {kind}");
    }
    assert!(!out.contains("a-good-long-password"));
    let (ok, _, err) = run(&["audit", "export", "--from", "yesterday"]);
    assert!(!ok && err.contains("not a date"), "{err}");
}
