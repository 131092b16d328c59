use crate::helpers::*;

#[test]
fn tile_click_without_session_logs_in_then_posts_unsolicited_response() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let sp = SpFixture::new("wiki");
    app.add_sp(&sp.metadata(false), "社内Wiki", &["taro"]);
    app.sql("UPDATE services SET default_relay_state = 'https://wiki.example/start'");
    let mut b = app.browser();
    let tile = format!("/saml/idp-init?sp={}", enc(&sp.entity_id));
    let p = b.get(&tile);
    assert_eq!(p.status, 303);
    let r = b.login_at(p.location(), "taro", PASSWORD);
    assert_eq!(
        r.location(),
        tile,
        "after login the person continues to the clicked service"
    );
    let post = posted(&b.get(&tile));
    assert_eq!(post.action, sp.acs[0]);
    assert_eq!(post.root.attr("InResponseTo"), None);
    assert!(post.find("SubjectConfirmationData")[0]
        .attr("InResponseTo")
        .is_none());
    assert_eq!(
        post.relay_state.as_deref(),
        Some("https://wiki.example/start")
    );
    assert_eq!(post.name_id().1, "taro@example.com");
    // An explicit RelayState wins over the default.
    let post = posted(&b.get(&format!("{tile}&RelayState=here")));
    assert_eq!(post.relay_state.as_deref(), Some("here"));
}

#[test]
fn idp_init_refuses_unassigned_unknown_and_disabled_services() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    app.add_user("jiro", "jiro@example.com", "鈴木 次郎");
    let sp = SpFixture::new("wiki");
    app.add_sp(&sp.metadata(false), "社内Wiki", &["taro"]);
    let mut b = app.browser();
    b.login("jiro");
    let p = b.get(&format!("/saml/idp-init?sp={}", enc(&sp.entity_id)));
    assert_eq!(p.status, 403);
    assert!(p.body.contains("SAML-012"));
    assert!(!p.body.contains("SAMLResponse"));
    let p = b.get("/saml/idp-init?sp=https%3A%2F%2Fnope.example%2F");
    assert_eq!(p.status, 404);
    assert!(p.body.contains("SAML-005"));
    let p = b.get("/saml/idp-init");
    assert_eq!(p.status, 400);
    let mut t = app.browser();
    t.login("taro");
    app.sql("UPDATE services SET enabled = FALSE");
    assert_eq!(
        t.get(&format!("/saml/idp-init?sp={}", enc(&sp.entity_id)))
            .status,
        403
    );
}

#[test]
fn user_without_email_gets_a_clear_page_for_email_nameid() {
    let app = TestApp::spawn();
    app.add_user("noemail", "", "No Mail");
    let sp = SpFixture::new("wiki");
    app.add_sp(&sp.metadata(false), "社内Wiki", &["noemail"]);
    let mut b = app.browser();
    b.login("noemail");
    let p = b.get(&format!("/saml/idp-init?sp={}", enc(&sp.entity_id)));
    assert_eq!(p.status, 409);
    assert!(p.body.contains("SAML-016"));
}
