//! Metadata registered by URL: refreshed on schedule and on demand; a failed
//! refresh keeps the last good metadata and shows the failure.

use chrono::Duration;
use omakase::db::models::users::Role;

use crate::helpers::*;

#[test]
fn refresh_on_demand_and_on_schedule_keeping_the_last_good_metadata() {
    let app = TestApp::spawn();
    app.add_user_as("boss", "boss@example.com", "管理", Role::Admin);
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let sp = SpFixture::new("remote");
    let server = MetadataServer::start(sp.metadata(false));
    let mut b = app.browser();
    b.login("boss");
    b.get("/admin/services/new");
    let csrf = b.csrf();
    let preview = b.post_multipart(
        "/admin/services/preview",
        &[("csrf_token", &csrf), ("url", &server.url)],
        None,
    );
    let metadata = preview.input("metadata").expect("metadata");
    let saved = b.post(
        "/admin/services/save",
        &[
            ("csrf_token", &csrf),
            ("metadata", &metadata),
            ("metadata_url", &server.url),
            ("name", "Remote"),
        ],
    );
    let page = saved.location().trim_end_matches("?saved=1").to_string();
    b.post(
        &format!("{page}/assign"),
        &[("csrf_token", &csrf), ("username", "taro")],
    );
    let show = b.get(&page);
    // cacheDuration PT6H: fetched at 21:00 Tokyo time, next at 03:00.
    assert!(show.body.contains("2026/11/25 21:00:00"), "last fetched");
    assert!(
        show.body.contains("2026/11/26 03:00:00"),
        "next fetch from cacheDuration"
    );
    // On demand, with new metadata.
    server.set(
        200,
        sp.metadata(false)
            .replace(&sp.acs[1], "https://remote.example/acs-v2"),
    );
    let r = b.post(&format!("{page}/refresh"), &[("csrf_token", &csrf)]);
    assert_eq!(r.location(), format!("{page}?notice=refreshed"));
    assert!(b.get(&page).body.contains("https://remote.example/acs-v2"));
    // A failing server: the last good metadata stays, the failure shows.
    server.set(500, "oops".into());
    let r = b.post(&format!("{page}/refresh"), &[("csrf_token", &csrf)]);
    assert_eq!(r.location(), format!("{page}?error=refresh"));
    let show = b.get(&format!("{page}?error=refresh"));
    assert!(show.body.contains("前回のメタデータを使い続けます"));
    assert!(show.body.contains("id=\"refresh-error\""));
    assert!(
        show.body.contains("https://remote.example/acs-v2"),
        "last good metadata kept"
    );
    let mut taro = app.browser();
    taro.login("taro");
    let post = posted(&taro.get(&format!("/saml/idp-init?sp={}", enc(&sp.entity_id))));
    assert!(post.has_assertion(), "the service still works");
    // Metadata for another entity is refused the same way.
    server.set(200, SpFixture::new("other").metadata(false));
    assert!(b
        .post(&format!("{page}/refresh"), &[("csrf_token", &csrf)])
        .location()
        .ends_with("error=refresh"));
    // Expired metadata (validUntil passed) is refused the same way.
    server.set(
        200,
        sp.metadata(false)
            .replace(&sp.acs[1], "https://remote.example/acs-expired")
            .replace(
                "cacheDuration=",
                "validUntil=\"2026-01-01T00:00:00Z\" cacheDuration=",
            ),
    );
    assert!(b
        .post(&format!("{page}/refresh"), &[("csrf_token", &csrf)])
        .location()
        .ends_with("error=refresh"));
    let show = b.get(&page);
    assert!(show.body.contains("validUntil"), "the reason is shown");
    assert!(!show.body.contains("acs-expired"));
    // On schedule: nothing is due before the retry time; then it is fetched.
    server.set(
        200,
        sp.metadata(false)
            .replace(&sp.acs[1], "https://remote.example/acs-v3"),
    );
    let n = omakase::domain::refresh::refresh_due(&app.pool, app.state_now()).expect("round");
    assert_eq!(n, 0, "not due yet");
    app.clock.advance(Duration::minutes(61));
    let n = omakase::domain::refresh::refresh_due(&app.pool, app.state_now()).expect("round");
    assert_eq!(n, 1);
    // An hour has passed: the admin's idle session has ended.
    b.login("boss");
    let show = b.get(&page);
    assert!(show.body.contains("https://remote.example/acs-v3"));
    assert!(
        !show.body.contains("id=\"refresh-error\""),
        "the error clears after a good fetch"
    );
    let log = b.get("/admin/audit?kind=service.refresh");
    assert!(
        log.body.contains("service.refresh_failed")
            && log.body.contains("<td>service.refresh</td>")
    );
}
