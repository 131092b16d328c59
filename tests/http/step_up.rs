//! Who must give a second factor, and when: everybody, a group, a person
//! (at login), a service or an SP's RequestedAuthnContext (before the
//! assertion), with NoAuthnContext and NoPassive where it cannot be done.

use chrono::Duration;
use omakase::db::models::users::Role;

use crate::helpers::*;
use crate::security_helpers::*;

const PPT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
const TIME_SYNC: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken";
const MOBILE: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract";
const REFEDS: &str = "https://refeds.org/profile/mfa";

struct World {
    app: TestApp,
    sp: SpFixture,
}

fn world() -> World {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    app.add_user_as("boss", "boss@example.com", "管理 者", Role::Admin);
    let sp = SpFixture::new("wiki");
    app.add_sp(&sp.metadata(false), "社内Wiki", &["taro"]);
    World { app, sp }
}

fn class(p: &Posted) -> String {
    p.find("AuthnContextClassRef")
        .first()
        .map(|n| n.text.clone())
        .unwrap_or_default()
}

fn rac(comparison: &str, class: &str) -> String {
    format!("<samlp:RequestedAuthnContext Comparison=\"{comparison}\"><saml:AuthnContextClassRef>{class}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>")
}

impl World {
    fn idp_init(&self, b: &mut Browser) -> Page {
        b.get(&format!("/saml/idp-init?sp={}", enc(&self.sp.entity_id)))
    }

    fn sso(&self, b: &mut Browser, id: &str, body: &str, extra: &str) -> Page {
        let mut r = Req::new(id, &self.sp.entity_id, self.app.state_now()).body(body);
        if !extra.is_empty() {
            r = r.attr(extra);
        }
        b.get(&format!("/saml/sso?{}", r.redirect_query()))
    }

    fn service_id(&self, b: &mut Browser) -> String {
        let list = b.get("/admin/services");
        list.body
            .split("/admin/services/")
            .filter_map(|s| s.split('"').next())
            .find(|s| s.parse::<i32>().is_ok())
            .expect("service id")
            .to_string()
    }
}

#[test]
fn a_service_that_requires_it_makes_the_person_step_up_first() {
    let w = world();
    let mut admin = w.app.browser();
    admin.login("boss");
    let id = w.service_id(&mut admin);
    let saved = admin.submit(
        &format!("/admin/services/{id}/settings"),
        &[
            ("display_name", "社内Wiki"),
            ("nameid_format", "email"),
            ("session_minutes", "480"),
            ("sign_response", "1"),
            ("sign_assertion", "1"),
            ("enabled", "1"),
            ("mfa_required", "1"),
        ],
    );
    assert_eq!(saved.status, 303, "{}", saved.body);
    let mut b = w.app.browser();
    b.login("taro");
    // The tile asks for a second factor; taro has none yet, so he sets
    // one up, and then goes on to the service.
    let tile = w.idp_init(&mut b);
    assert_eq!(tile.status, 303);
    let next = tile.location().to_string();
    assert!(next.starts_with("/mfa?next=%2Fsaml%2Fidp-init"), "{next}");
    let to_setup = b.get(&next);
    assert!(to_setup.location().starts_with("/mfa/setup?next="));
    let setup = b.get(to_setup.location());
    assert!(setup.body.contains("/mfa/totp/setup?next="));
    b.get("/mfa/totp/setup?next=%2F");
    let code = w.app.totp_code("taro", 0);
    let back = format!("/saml/idp-init?sp={}", enc(&w.sp.entity_id));
    let codes = b.submit("/mfa/totp/setup", &[("code", &code), ("next", &back)]);
    let href = codes
        .body
        .split("id=\"continue\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(html_unescape)
        .expect("continue link");
    assert_eq!(href, back);
    let post = posted(&b.get(&href));
    assert_eq!(
        post.status(),
        vec!["urn:oasis:names:tc:SAML:2.0:status:Success"]
    );
    assert_eq!(class(&post), TIME_SYNC);
    // SP-initiated too: the session has its second factor now.
    let sp = posted(&w.sso(&mut b, "_after", "", ""));
    assert!(sp.has_assertion());
}

#[test]
fn a_requested_multi_factor_class_steps_up_and_is_stated() {
    let w = world();
    w.app.set_mobile("taro", "09012345678");
    let mut b = w.app.browser();
    b.login("taro");
    // Password alone answers a PasswordProtectedTransport request.
    let ppt = posted(&w.sso(&mut b, "_ppt", &rac("exact", PPT), ""));
    assert_eq!(class(&ppt), PPT);
    // SMS set up in this session counts as its second factor.
    b.submit("/mfa/sms/setup/send", &[("next", "/")]);
    let code = w.app.last_sms_code();
    b.submit("/mfa/sms/setup", &[("code", &code), ("next", "/")]);
    let mfa = posted(&w.sso(&mut b, "_mfa", &rac("exact", REFEDS), ""));
    assert_eq!(class(&mfa), REFEDS);
    let minimum = posted(&w.sso(&mut b, "_min", &rac("minimum", PPT), ""));
    assert_eq!(class(&minimum), MOBILE);
    // An SMS code is not a time-sync token: that request cannot be met.
    let token = posted(&w.sso(&mut b, "_tst", &rac("exact", TIME_SYNC), ""));
    assert!(token
        .status()
        .iter()
        .any(|s| s.ends_with(":NoAuthnContext")));
    assert!(!token.has_assertion());
}

#[test]
fn a_new_session_steps_up_for_a_multi_factor_request() {
    let w = world();
    let mut b = w.app.browser();
    b.login("taro");
    enrol_totp(&w.app, &mut b, "taro");
    w.app.clock.advance(Duration::seconds(60));
    // A fresh browser: password, then the SP asks for MFA.
    let mut c = w.app.browser();
    let parked = w.sso(&mut c, "_fresh", &rac("exact", REFEDS), "");
    let resume = parked.location().to_string();
    let login = c.get(&resume);
    let after = c.login_at(login.location(), "taro", PASSWORD);
    assert!(after.location().starts_with("/mfa?next=%2Fsaml%2Fresume"));
    let done = c.submit(
        "/mfa/totp",
        &[("code", &w.app.totp_code("taro", 0)), ("next", &resume)],
    );
    assert_eq!(done.location(), resume);
    let post = posted(&c.get(&resume));
    assert_eq!(class(&post), REFEDS);
    assert_eq!(
        post.root
            .attr("InResponseTo")
            .map(str::to_string)
            .unwrap_or_default(),
        "_fresh"
    );
}

#[test]
fn passive_requests_that_need_a_second_factor_get_no_passive() {
    let w = world();
    let mut b = w.app.browser();
    b.login("taro");
    let p = posted(&w.sso(
        &mut b,
        "_passive",
        &rac("exact", REFEDS),
        "IsPassive=\"true\"",
    ));
    assert!(p.status().iter().any(|s| s.ends_with(":NoPassive")));
    assert!(!p.has_assertion());
}

#[test]
fn a_group_that_requires_it_makes_members_set_one_up_at_login() {
    let w = world();
    let mut admin = w.app.browser();
    admin.login("boss");
    admin.submit("/admin/groups", &[("name", "経理部")]);
    let groups = admin.get("/admin/groups");
    let gid = groups
        .body
        .split("/admin/groups/")
        .filter_map(|s| s.split('"').next())
        .find(|s| s.parse::<i32>().is_ok())
        .expect("group id")
        .to_string();
    admin.submit(
        &format!("/admin/groups/{gid}/change"),
        &[("op", "add_member"), ("username", "taro")],
    );
    let r = admin.submit(&format!("/admin/groups/{gid}/mfa"), &[("required", "true")]);
    assert_eq!(r.status, 303);
    assert!(admin.get("/admin/security").body.contains("経理部"));
    let mut b = w.app.browser();
    assert_eq!(b.password_step("taro"), "/mfa/setup?next=%2F");
    // Nothing else opens, and setting up cannot be put off.
    let home = b.get("/");
    assert!(home.location().starts_with("/mfa?next="));
    let setup = b.get("/mfa/setup?next=%2F");
    assert!(setup.body.contains("2段階認証が必須です"));
    assert!(!setup.body.contains("あとで設定する"));
    enrol_totp(&w.app, &mut b, "taro");
    assert_eq!(b.get("/").status, 200);
    // One login, recorded once: there is no previous login yet.
    let profile = b.get("/profile");
    let previous = profile
        .body
        .split("id=\"f-previous-login\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("previous login");
    assert_eq!(previous, "—");
    // The factor cannot be turned off while it is required.
    let off = b.submit("/mfa/totp/disable", &[("password", PASSWORD)]);
    assert_eq!(off.location(), "/security?error=required");
    // Another member of no such group is not asked.
    assert_eq!(w.app.browser().password_step("boss"), "/");
}

#[test]
fn requiring_it_of_everybody_applies_to_sessions_already_open() {
    let w = world();
    let mut b = w.app.browser();
    b.login("taro");
    assert!(posted(&w.idp_init(&mut b)).has_assertion());
    let mut admin = w.app.browser();
    admin.login("boss");
    let r = admin.submit("/admin/security/mfa", &[("required", "true")]);
    assert_eq!(r.location(), "/admin/security?saved=1");
    assert_eq!(w.app.count_audit("admin.mfa.required_all"), 1);
    // The open session gets no more assertions without a second factor.
    let tile = w.idp_init(&mut b);
    assert_eq!(tile.status, 303);
    assert!(tile.location().starts_with("/mfa?next="));
    // New logins set one up first.
    assert_eq!(w.app.browser().password_step("taro"), "/mfa/setup?next=%2F");
}

#[test]
fn an_admin_requires_it_of_one_person_and_resets_a_lost_device() {
    let w = world();
    let mut admin = w.app.browser();
    admin.login("boss");
    let list = admin.get("/admin/users?q=taro");
    let id = list
        .body
        .split("/admin/users/")
        .filter_map(|s| s.split('"').next())
        .find_map(|s| s.parse::<i32>().ok())
        .expect("user id");
    admin.submit(
        &format!("/admin/users/{id}/action"),
        &[("action", "mfa_require")],
    );
    let mut b = w.app.browser();
    assert_eq!(b.password_step("taro"), "/mfa/setup?next=%2F");
    enrol_totp(&w.app, &mut b, "taro");
    let page = admin.get(&format!("/admin/users/{id}"));
    assert!(page.body.contains("2段階認証必須"));
    // The phone is lost: the admin resets; taro's sessions end and he
    // sets up a factor again at the next login.
    let reset = admin.submit(
        &format!("/admin/users/{id}/action"),
        &[("action", "mfa_reset")],
    );
    assert_eq!(
        reset.location(),
        format!("/admin/users/{id}?notice=mfa_reset")
    );
    assert_eq!(b.get("/").status, 303);
    assert_eq!(w.app.browser().password_step("taro"), "/mfa/setup?next=%2F");
    assert_eq!(w.app.count_audit("admin.user.mfa_reset"), 1);
}

#[test]
fn someone_the_service_is_not_for_is_denied_before_any_step_up() {
    let w = world();
    w.app.sql("UPDATE services SET mfa_required = TRUE");
    w.app.add_user("jiro", "jiro@example.com", "鈴木 次郎");
    let mut b = w.app.browser();
    b.login("jiro");
    let p = posted(&w.sso(&mut b, "_denied", "", ""));
    assert!(p.status().iter().any(|s| s.ends_with(":RequestDenied")));
    assert!(!p.has_assertion());
}
