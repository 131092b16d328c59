//! Per-service attribute release and icons.

use omakase::db::models::users::Role;

use crate::helpers::*;

/// A real 1x1 PNG.
const PNG_HEX: &str = "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6338e4c8f31f0004e7020f910e2e750000000049454e44ae426082";

fn setup() -> (TestApp, Browser, SpFixture, String) {
    let app = TestApp::spawn();
    app.add_user_as("boss", "boss@example.com", "管理", Role::Admin);
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let sp = SpFixture::new("wiki");
    app.add_sp(&sp.metadata(false), "社内Wiki", &["taro"]);
    let mut b = app.browser();
    b.login("boss");
    let list = b.get("/admin/services");
    let at = list.body.find("<a href=\"/admin/services/").expect("link") + 9;
    let end = at + list.body[at..].find('"').expect("end");
    let page = list.body[at..end].to_string();
    (app, b, sp, page)
}

#[test]
fn attribute_release_names_formats_and_groups() {
    let (app, mut b, sp, page) = setup();
    let show = b.get(&page);
    assert!(show
        .body
        .contains("name=\"release_mail\" value=\"1\" aria-label=\"mail\" checked"));
    assert!(
        !show
            .body
            .contains("name=\"release_groups\" value=\"1\" aria-label=\"groups\" checked"),
        "groups off by default"
    );
    let csrf = b.csrf();
    b.post(
        "/admin/groups",
        &[("csrf_token", &csrf), ("name", "営業部")],
    );
    let groups = b.get("/admin/groups");
    let at = groups.body.find("<a href=\"/admin/groups/").expect("group") + 9;
    let end = at + groups.body[at..].find('"').expect("end");
    let group = groups.body[at..end].to_string();
    b.post(
        &format!("{group}/change"),
        &[
            ("csrf_token", &csrf),
            ("op", "add_member"),
            ("username", "taro"),
        ],
    );
    let basic = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
    let uri = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
    let r = b.post(
        &format!("{page}/attributes"),
        &[
            ("csrf_token", &csrf),
            ("release_mail", "1"),
            ("name_mail", "email"),
            ("friendly_mail", "Email"),
            ("format_mail", basic),
            ("release_groups", "1"),
            ("name_groups", "urn:oid:1.3.6.1.4.1.5923.1.5.1.1"),
            ("friendly_groups", "isMemberOf"),
            ("format_groups", uri),
        ],
    );
    assert!(r.location().ends_with("saved=1"), "{}", r.location());
    let mut taro = app.browser();
    taro.login("taro");
    let post = posted(&taro.get(&format!("/saml/idp-init?sp={}", enc(&sp.entity_id))));
    let attrs = post.find("Attribute");
    assert_eq!(attrs.len(), 2, "only what is ticked");
    let mail = attrs
        .iter()
        .find(|a| a.attr("Name") == Some("email"))
        .expect("email attribute");
    assert_eq!(mail.attr("NameFormat"), Some(basic));
    assert_eq!(mail.attr("FriendlyName"), Some("Email"));
    assert_eq!(post.attribute("Email"), vec!["taro@example.com"]);
    assert_eq!(post.attribute("isMemberOf"), vec!["営業部"]);
    assert!(post.attribute("displayName").is_empty());
    // Refused: a name twice, an unknown NameFormat.
    let dup = b.post(
        &format!("{page}/attributes"),
        &[
            ("csrf_token", &csrf),
            ("release_mail", "1"),
            ("name_mail", "x"),
            ("format_mail", uri),
            ("release_uid", "1"),
            ("name_uid", "x"),
            ("format_uid", uri),
        ],
    );
    assert!(dup.location().ends_with("error=attr_duplicate"));
    let fmt = b.post(
        &format!("{page}/attributes"),
        &[
            ("csrf_token", &csrf),
            ("release_mail", "1"),
            ("name_mail", "m"),
            ("format_mail", "x"),
        ],
    );
    assert!(fmt.location().ends_with("error=attr_format_invalid"));
    assert!(b
        .get(&format!("{page}?error=attr_duplicate"))
        .body
        .contains("同じ属性名"));
}

#[test]
fn icons_are_checked_served_from_our_origin_and_shown_on_tiles() {
    let (app, mut b, _sp, page) = setup();
    let png = hex::decode(PNG_HEX).expect("png");
    b.get(&page);
    let csrf = b.csrf();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    let r = b.post_multipart(
        &format!("{page}/icon"),
        &[("csrf_token", &csrf)],
        Some(("file", "x.png", svg)),
    );
    assert!(
        r.location().ends_with("error=icon"),
        "SVG refused even when named .png"
    );
    let big = [png.clone(), vec![0u8; 300 * 1024]].concat();
    let r = b.post_multipart(
        &format!("{page}/icon"),
        &[("csrf_token", &csrf)],
        Some(("file", "big.png", &big)),
    );
    assert!(r.location().ends_with("error=icon"), "too large");
    let r = b.post_multipart(
        &format!("{page}/icon"),
        &[("csrf_token", &csrf)],
        Some(("file", "icon.png", &png)),
    );
    assert!(r.location().ends_with("saved=1"));
    let mut taro = app.browser();
    taro.login("taro");
    let home = taro.get("/");
    let at = home
        .body
        .find("<img class=\"icon\" src=\"")
        .expect("icon on the tile")
        + 23;
    let src = html_unescape(&home.body[at..at + home.body[at..].find('"').expect("end")]);
    assert!(src.starts_with("/icons/"));
    let icon = taro.get(&src);
    assert_eq!(icon.status, 200);
    assert_eq!(icon.header("content-type"), Some("image/png"));
    assert_eq!(icon.header("x-content-type-options"), Some("nosniff"));
    let mut anon = app.browser();
    assert_eq!(anon.get(&src).status, 303, "signed-in people only");
    let r = b.post_multipart(
        &format!("{page}/icon"),
        &[("csrf_token", &csrf), ("remove", "1")],
        None,
    );
    assert!(r.location().ends_with("saved=1"));
    assert_eq!(taro.get(&src).status, 404);
    assert!(!taro.get("/").body.contains("<img class=\"icon\""));
}
