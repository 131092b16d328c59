//! The contractor's pages and the public 問い合わせ page.

use std::io::Read;

use omakase::db::models::users::Role;

use crate::helpers::*;

fn setup() -> (TestApp, Browser) {
    let app = TestApp::spawn();
    app.add_user_as("owner", "owner@example.com", "契約者", Role::Contractor);
    app.add_user_as("boss", "boss@example.com", "管理 花子", Role::Admin);
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let mut b = app.browser();
    b.login("owner");
    (app, b)
}

fn files_of(zip_bytes: &[u8]) -> std::collections::HashMap<String, String> {
    let mut z =
        zip::ZipArchive::new(std::io::Cursor::new(zip_bytes.to_vec())).expect("a zip archive");
    let mut out = std::collections::HashMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).expect("entry");
        let mut s = String::new();
        f.read_to_string(&mut s).expect("utf-8 entry");
        out.insert(f.name().to_string(), s);
    }
    out
}

fn get_bytes(b: &Browser, path: &str) -> (u16, Vec<u8>) {
    let cookie = b
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let r = ureq::get(&format!("{}{path}", b.base))
        .set("Cookie", &cookie)
        .call();
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let status = resp.status();
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).expect("read");
    (status, body)
}

#[test]
fn only_the_contractor_reaches_the_contractor_pages() {
    let (app, _) = setup();
    for who in ["boss", "taro"] {
        let mut b = app.browser();
        b.login(who);
        assert_eq!(b.get("/contractor").status, 403, "{who}");
        assert_eq!(b.get("/contractor/export").status, 403, "{who}");
        let csrf = b.csrf();
        assert_eq!(
            b.post(
                "/contractor/terminate",
                &[("csrf_token", &csrf), ("confirm", "DELETE")]
            )
            .status,
            403,
            "{who}"
        );
        assert_eq!(
            b.post(
                "/contractor/admins",
                &[("csrf_token", &csrf), ("username", who), ("op", "grant")]
            )
            .status,
            403
        );
        assert!(!b.get("/").body.contains("href=\"/contractor\""));
    }
}

#[test]
fn contract_details_show_on_the_contact_page() {
    let (app, mut b) = setup();
    let mut anon = app.browser();
    assert!(anon.get("/login").body.contains("href=\"/contact\""));
    assert!(anon.get("/contact").body.contains("まだ登録されていません"));
    let csrf = b.csrf();
    let bad = b.post(
        "/contractor/contract",
        &[
            ("csrf_token", &csrf),
            ("company_name", "株式会社おまかせ"),
            ("contact_email", "not-mail"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert_eq!(
        bad.input("company_name").as_deref(),
        Some("株式会社おまかせ")
    );
    let ok = b.post(
        "/contractor/contract",
        &[
            ("csrf_token", &csrf),
            ("company_name", "株式会社おまかせ"),
            ("contact_name", "情報システム部 ヘルプデスク"),
            ("contact_email", "help@example.com"),
            ("contact_phone", "03-0000-0000"),
            ("contact_note", "平日 9:00〜18:00"),
        ],
    );
    assert_eq!(ok.location(), "/contractor?notice=saved");
    let contact = anon.get("/contact");
    assert_eq!(contact.status, 200);
    for s in [
        "株式会社おまかせ",
        "情報システム部 ヘルプデスク",
        "help@example.com",
        "03-0000-0000",
        "平日 9:00〜18:00",
    ] {
        assert!(contact.body.contains(s), "{s}");
    }
}

#[test]
fn the_contractor_grants_and_revokes_admin() {
    let (app, mut b) = setup();
    let csrf = b.csrf();
    let r = b.post(
        "/contractor/admins",
        &[("csrf_token", &csrf), ("username", "taro"), ("op", "grant")],
    );
    assert_eq!(r.location(), "/contractor?notice=granted");
    let mut taro = app.browser();
    taro.login("taro");
    assert_eq!(taro.get("/admin/users").status, 200);
    assert!(b.get("/contractor").body.contains("<td>taro</td>"));
    b.post(
        "/contractor/admins",
        &[
            ("csrf_token", &csrf),
            ("username", "taro"),
            ("op", "revoke"),
        ],
    );
    assert_eq!(taro.get("/admin/users").status, 403);
    let r = b.post(
        "/contractor/admins",
        &[
            ("csrf_token", &csrf),
            ("username", "owner"),
            ("op", "revoke"),
        ],
    );
    assert!(r.location().ends_with("error=self"));
    let r = b.post(
        "/contractor/admins",
        &[
            ("csrf_token", &csrf),
            ("username", "ghost"),
            ("op", "grant"),
        ],
    );
    assert!(r.location().ends_with("error=no_such_user"));
}

#[test]
fn export_then_end_of_use_deletes_everything() {
    let (app, mut b) = setup();
    let sp = SpFixture::new("wiki");
    app.add_sp(&sp.metadata(false), "社内Wiki", &["taro"]);
    let csrf = b.csrf();
    b.post(
        "/contractor/contract",
        &[("csrf_token", &csrf), ("company_name", "株式会社おまかせ")],
    );
    let (status, zip) = get_bytes(&b, "/contractor/export");
    assert_eq!(status, 200);
    let files = files_of(&zip);
    for name in [
        "README.txt",
        "users.csv",
        "groups.json",
        "services.json",
        "metadata/001.xml",
        "contract.json",
        "audit.csv",
    ] {
        assert!(files.contains_key(name), "missing {name}");
    }
    assert!(
        files["users.csv"].starts_with('\u{FEFF}')
            && files["users.csv"].contains("taro,taro@example.com,山田 太郎")
    );
    assert!(
        files["services.json"].contains(&sp.entity_id)
            && files["services.json"].contains("\"taro\"")
    );
    assert!(files["metadata/001.xml"].contains(&sp.acs[0]));
    assert!(files["contract.json"].contains("株式会社おまかせ"));
    assert!(files["audit.csv"].contains("contractor.export"));
    assert!(
        !files
            .values()
            .any(|f| f.contains(PASSWORD) || f.contains("$argon2")),
        "no passwords or hashes"
    );
    // A wrong phrase deletes nothing.
    let r = b.post(
        "/contractor/terminate",
        &[("csrf_token", &csrf), ("confirm", "delete")],
    );
    assert!(r.location().ends_with("error=phrase"));
    assert_eq!(b.get("/contractor").status, 200);
    // The real end: the final export's last audit record is the confirmation.
    let cookie = b
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let resp = ureq::post(&format!("{}/contractor/terminate", app.base))
        .set("Cookie", &cookie)
        .send_form(&[("csrf_token", &csrf), ("confirm", "DELETE")])
        .expect("terminate");
    assert_eq!(resp.header("content-type"), Some("application/zip"));
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).expect("read");
    let last = files_of(&body);
    let audit_lines: Vec<&str> = last["audit.csv"].trim_end().lines().collect();
    assert!(audit_lines
        .last()
        .expect("a line")
        .contains("contractor.terminate"));
    assert!(last["users.csv"].contains("taro"));
    // Everything is gone.
    assert_eq!(
        app.browser().login_at("/login", "taro", PASSWORD).status,
        401
    );
    assert_eq!(
        app.browser().login_at("/login", "owner", PASSWORD).status,
        401
    );
    assert_eq!(b.get("/contractor").status, 303);
    let mut c = app.pool.get().expect("conn");
    assert_eq!(omakase::db::models::users::count(&mut c).expect("count"), 0);
    assert!(omakase::db::models::services::list(&mut c)
        .expect("list")
        .is_empty());
}
