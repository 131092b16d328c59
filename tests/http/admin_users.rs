//! Admin: users, roles, groups and CSV.

use omakase::db::models::users::Role;

use crate::helpers::*;

fn setup() -> (TestApp, Browser) {
    let app = TestApp::spawn();
    app.add_user_as("boss", "boss@example.com", "管理 花子", Role::Admin);
    app.add_user_as("owner", "owner@example.com", "契約者", Role::Contractor);
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let mut b = app.browser();
    b.login("boss");
    (app, b)
}

fn user_page(b: &mut Browser, username: &str) -> String {
    let list = b.get(&format!("/admin/users?q={username}"));
    let needle = "<a href=\"/admin/users/";
    let at = list.body.find(needle).expect("a user link") + needle.len();
    let id: String = list.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    format!("/admin/users/{id}")
}

#[test]
fn search_create_and_first_login_with_the_one_time_password() {
    let (app, mut b) = setup();
    let list = b.get("/admin/users?q=yamada");
    assert!(!list.body.contains("taro"));
    let list = b.get("/admin/users?q=%E5%B1%B1%E7%94%B0");
    assert!(list.body.contains("taro"), "search by name");
    let csrf = b.csrf();
    let bad = b.post(
        "/admin/users/new",
        &[
            ("csrf_token", &csrf),
            ("username", "bad name"),
            ("display_name", ""),
            ("email", "x@"),
            ("role", "user"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("ユーザー名は半角英数字"));
    assert!(bad.body.contains("名前を入力してください"));
    assert!(bad.body.contains("メールアドレスの形式"));
    let taken = b.post(
        "/admin/users/new",
        &[
            ("csrf_token", &csrf),
            ("username", "taro"),
            ("display_name", "X"),
            ("role", "user"),
        ],
    );
    assert!(taken.body.contains("すでに使われています"));
    // An admin cannot create an admin.
    let admin = b.post(
        "/admin/users/new",
        &[
            ("csrf_token", &csrf),
            ("username", "jiro"),
            ("display_name", "次郎"),
            ("role", "admin"),
        ],
    );
    assert_eq!(admin.status, 422);
    assert!(admin.body.contains("契約者だけです"));
    let ok = b.post(
        "/admin/users/new",
        &[
            ("csrf_token", &csrf),
            ("username", "jiro"),
            ("display_name", "鈴木 次郎"),
            ("email", "jiro@example.com"),
            ("department", "営業部"),
            ("role", "user"),
        ],
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    let needle = "id=\"ot-password\" class=\"secret\">";
    let start = ok.body.find(needle).expect("password shown") + needle.len();
    let otp: String = ok.body[start..].chars().take_while(|c| *c != '<').collect();
    assert_eq!(otp.len(), 16);
    assert_eq!(ok.header("cache-control"), Some("no-store"));
    let mut jiro = app.browser();
    let r = jiro.login_at("/login", "jiro", &otp);
    assert!(
        r.location().starts_with("/password"),
        "must change the one-time password"
    );
    let page = user_page(&mut b, "jiro");
    let show = b.get(&page);
    assert!(show.body.contains("営業部"));
    assert!(show.body.contains("次回ログイン時に変更が必要"));
}

#[test]
fn edit_disable_lock_reset_and_delete() {
    let (app, mut b) = setup();
    let mut taro = app.browser();
    taro.login("taro");
    let page = user_page(&mut b, "taro");
    let csrf = b.csrf();
    let bad = b.post(
        &page,
        &[
            ("csrf_token", &csrf),
            ("display_name", "山田 太郎"),
            ("phone", "12"),
            ("role", "user"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert_eq!(bad.input("phone").as_deref(), Some("12"));
    let ok = b.post(
        &page,
        &[
            ("csrf_token", &csrf),
            ("display_name", "山田 太郎"),
            ("email", "taro@example.com"),
            ("phone", "03-1234-5678"),
            ("organization", "○○事業部"),
            ("role", "user"),
        ],
    );
    assert_eq!(ok.status, 303);
    assert!(taro.get("/profile").body.contains("03-1234-5678"));
    // Locking ends the sessions and stops logins.
    b.post(
        &format!("{page}/action"),
        &[("csrf_token", &csrf), ("action", "lock")],
    );
    assert_eq!(taro.get("/").status, 303);
    let refused = app.browser().login_at("/login", "taro", PASSWORD);
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("アカウントがロックされています"));
    b.post(
        &format!("{page}/action"),
        &[("csrf_token", &csrf), ("action", "unlock")],
    );
    let mut again = app.browser();
    again.login("taro");
    b.post(
        &format!("{page}/action"),
        &[("csrf_token", &csrf), ("action", "disable")],
    );
    assert_eq!(again.get("/").status, 303);
    assert_eq!(
        app.browser().login_at("/login", "taro", PASSWORD).status,
        401
    );
    b.post(
        &format!("{page}/action"),
        &[("csrf_token", &csrf), ("action", "enable")],
    );
    let reset = b.post(
        &format!("{page}/action"),
        &[("csrf_token", &csrf), ("action", "reset_password")],
    );
    assert!(reset.body.contains("一時パスワードを発行しました"));
    assert_eq!(
        app.browser().login_at("/login", "taro", PASSWORD).status,
        401,
        "old password gone"
    );
    let wrong = b.post(
        &format!("{page}/delete"),
        &[("csrf_token", &csrf), ("confirm", "tar")],
    );
    assert!(wrong.location().ends_with("error=confirm"));
    let del = b.post(
        &format!("{page}/delete"),
        &[("csrf_token", &csrf), ("confirm", "taro")],
    );
    assert_eq!(del.location(), "/admin/users?deleted=1");
    assert_eq!(b.get(&page).status, 404);
    let log = b.get("/admin/audit?user=taro");
    for kind in [
        "admin.user.update",
        "admin.user.lock",
        "admin.user.unlock",
        "admin.user.disable",
        "admin.user.reset_password",
        "admin.user.delete",
    ] {
        assert!(log.body.contains(kind), "audit {kind}");
    }
}

#[test]
fn only_a_contractor_manages_admins_and_roles() {
    let (app, mut b) = setup();
    // The admin cannot touch the contractor's or another admin's account.
    let owner = user_page(&mut b, "owner");
    let csrf = b.csrf();
    assert_eq!(
        b.post(
            &format!("{owner}/action"),
            &[("csrf_token", &csrf), ("action", "reset_password")]
        )
        .status,
        403
    );
    assert_eq!(
        b.post(
            &format!("{owner}/delete"),
            &[("csrf_token", &csrf), ("confirm", "owner")]
        )
        .status,
        403
    );
    let taro = user_page(&mut b, "taro");
    let up = b.post(
        &taro,
        &[
            ("csrf_token", &csrf),
            ("display_name", "山田 太郎"),
            ("role", "admin"),
        ],
    );
    assert_eq!(up.status, 422);
    // An admin's own account is managed by the contractor.
    let me = user_page(&mut b, "boss");
    assert_eq!(
        b.post(
            &format!("{me}/action"),
            &[("csrf_token", &csrf), ("action", "disable")]
        )
        .status,
        403
    );
    // The contractor can.
    let mut c = app.browser();
    c.login("owner");
    let csrf = c.csrf();
    let r = c.post(
        &taro,
        &[
            ("csrf_token", &csrf),
            ("display_name", "山田 太郎"),
            ("role", "admin"),
        ],
    );
    assert_eq!(r.status, 303);
    let mut taro_b = app.browser();
    taro_b.login("taro");
    assert_eq!(
        taro_b.get("/admin/services").status,
        200,
        "taro is an admin now"
    );
    // The last contractor cannot be removed or demoted.
    let owner_page = user_page(&mut c, "owner");
    let r = c.post(
        &format!("{owner_page}/action"),
        &[("csrf_token", &csrf), ("action", "disable")],
    );
    assert!(r.location().ends_with("error=self"));
    let d = c.post(
        &owner_page,
        &[
            ("csrf_token", &csrf),
            ("display_name", "契約者"),
            ("role", "admin"),
        ],
    );
    assert_eq!(d.status, 422);
}

#[test]
fn groups_give_services_to_their_members() {
    let (app, mut b) = setup();
    let sp = SpFixture::new("wiki");
    app.add_sp(&sp.metadata(false), "社内Wiki", &[]);
    let csrf = b.csrf();
    let created = b.post(
        "/admin/groups",
        &[("csrf_token", &csrf), ("name", "営業部")],
    );
    assert_eq!(created.status, 303);
    let group = created.location().to_string();
    let dup = b.post(
        "/admin/groups",
        &[("csrf_token", &csrf), ("name", "営業部")],
    );
    assert_eq!(dup.status, 422);
    let change = format!("{group}/change");
    assert!(b
        .post(
            &change,
            &[
                ("csrf_token", &csrf),
                ("op", "add_member"),
                ("username", "ghost")
            ]
        )
        .location()
        .ends_with("error=no_such_user"));
    b.post(
        &change,
        &[
            ("csrf_token", &csrf),
            ("op", "add_member"),
            ("username", "taro"),
        ],
    );
    b.post(
        &change,
        &[
            ("csrf_token", &csrf),
            ("op", "add_service"),
            ("entity_id", &sp.entity_id),
        ],
    );
    // The service's page lists who has it through the group.
    let list = b.get("/admin/services");
    let sid = list
        .body
        .split("/admin/services/")
        .filter_map(|s| s.split('"').next())
        .find(|s| s.parse::<i32>().is_ok())
        .expect("service id")
        .to_string();
    let page = b.get(&format!("/admin/services/{sid}"));
    let via = page
        .body
        .split("id=\"via-groups\"")
        .nth(1)
        .expect("via groups");
    assert!(via.split("</ul>").next().unwrap_or("").contains("taro"));
    let mut taro = app.browser();
    taro.login("taro");
    assert!(
        taro.get("/").body.contains("社内Wiki"),
        "tile through the group"
    );
    let post = posted(&taro.get(&format!("/saml/idp-init?sp={}", enc(&sp.entity_id))));
    assert_eq!(post.name_id().1, "taro@example.com");
    let req = Req::new("_g1", &sp.entity_id, app.state_now());
    let p = posted(&taro.get(&format!("/saml/sso?{}", req.redirect_query())));
    assert!(p.has_assertion(), "SP-initiated through the group too");
    let r = b.post(
        &format!("{group}/rename"),
        &[("csrf_token", &csrf), ("name", "営業本部")],
    );
    assert!(r.location().ends_with("notice=saved"));
    assert!(b.get(&group).body.contains("営業本部"));
    b.post(
        &change,
        &[
            ("csrf_token", &csrf),
            ("op", "remove_member"),
            ("username", "taro"),
        ],
    );
    assert!(!taro.get("/").body.contains("社内Wiki"));
    b.post(
        &change,
        &[
            ("csrf_token", &csrf),
            ("op", "add_member"),
            ("username", "taro"),
        ],
    );
    let del = b.post(
        &format!("{group}/delete"),
        &[("csrf_token", &csrf), ("name", "営業本部")],
    );
    assert_eq!(del.location(), "/admin/groups?deleted=1");
    assert!(!taro.get("/").body.contains("社内Wiki"));
}

fn import(b: &mut Browser, csv: &str, dry_run: bool) -> Page {
    b.get("/admin/users/import");
    let csrf = b.csrf();
    let mut fields = vec![("csrf_token", csrf.as_str())];
    if dry_run {
        fields.push(("dry_run", "1"));
    }
    b.post_multipart(
        "/admin/users/import",
        &fields,
        Some(("file", "users.csv", csv.as_bytes())),
    )
}

#[test]
fn csv_import_dry_run_all_or_nothing_and_export() {
    let (app, mut b) = setup();
    let csrf = b.csrf();
    b.post(
        "/admin/groups",
        &[("csrf_token", &csrf), ("name", "営業部")],
    );
    let good = "\u{FEFF}username,display_name,email,department,groups\r\nsato,佐藤 花子,sato@example.com,営業部,営業部\r\ntaro,山田 太郎,taro@example.com,開発部,\r\n";
    let dry = import(&mut b, good, true);
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert!(dry.body.contains("確認のみ：誤りはありません"));
    assert!(dry.body.contains("新規: 1 / 更新: 1"));
    assert_eq!(app.browser().login_at("/login", "sato", "x").status, 401);
    assert!(
        b.get("/admin/users?q=sato")
            .body
            .contains("<td colspan=\"5\">"),
        "nothing created by a dry run"
    );
    // One bad line: nothing at all is applied, every bad line is reported.
    let bad = "username,display_name,email,phone,groups\nsato,佐藤 花子,sato@example.com,,営業部\nbad name,X,,,\nkato,,kato@example.com,12,ない\n";
    let r = import(&mut b, bad, false);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("何も取り込んでいません"));
    assert!(r.body.contains("ユーザー名は半角英数字"));
    assert!(r.body.contains("名前を入力してください"));
    assert!(r.body.contains("電話番号は"));
    assert!(r.body.contains("存在しないグループ"));
    assert!(
        b.get("/admin/users?q=sato")
            .body
            .contains("<td colspan=\"5\">"),
        "nothing half-applied"
    );
    // Without BOM, LF line ends: applied.
    let ok = import(
        &mut b,
        &good.replace('\u{FEFF}', "").replace("\r\n", "\n"),
        false,
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("取り込みました"));
    let start = ok
        .body
        .find("<code class=\"secret\">")
        .expect("one-time password")
        + 21;
    let otp: String = ok.body[start..].chars().take_while(|c| *c != '<').collect();
    let mut sato = app.browser();
    assert!(sato
        .login_at("/login", "sato", &otp)
        .location()
        .starts_with("/password"));
    let mut taro = app.browser();
    taro.login("taro");
    assert!(taro.get("/profile").body.contains("開発部"));
    // Only a contractor may import admins.
    let r = import(
        &mut b,
        "username,display_name,role\nnewadmin,X,admin\n",
        true,
    );
    assert!(r.body.contains("契約者だけです"));
    let r = import(&mut b, "name,mail\nx,y\n", true);
    assert!(r.body.contains("1行目の見出しが正しくありません"));
    let r = import(&mut b, "username,display_name\n\"open,X\n", true);
    assert!(r.body.contains("CSVの形式が正しくありません"));
    // Export: BOM, the columns, Japanese, group names; it round-trips.
    let csv = b.get("/admin/users.csv");
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with(
        "\u{FEFF}username,email,display_name,phone,mobile,organization,department,role,groups\r\n"
    ));
    assert!(csv
        .body
        .contains("sato,sato@example.com,佐藤 花子,,,,営業部,user,営業部\r\n"));
    let again = import(
        &mut b,
        &csv.body
            .replace("boss,", "#boss,")
            .lines()
            .filter(|l| !l.starts_with("#boss") && !l.starts_with("owner"))
            .collect::<Vec<_>>()
            .join("\n"),
        true,
    );
    assert!(
        again.body.contains("確認のみ：誤りはありません"),
        "{}",
        again.body
    );
}
