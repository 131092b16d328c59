//! Helpers for the account-security tests: the audit log, second-factor
//! secrets read from the database, the SMS file outbox, an SMS gateway.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};

use chrono::Duration;
use diesel::prelude::*;
use omakase::db::schema::{audit_events, totp_factors, users};

use crate::helpers::*;

impl TestApp {
    /// `(kind, subject)` of every audit event, oldest first.
    pub fn audit(&self) -> Vec<(String, String)> {
        let mut c = self.pool.get().expect("conn");
        audit_events::table
            .order(audit_events::id)
            .select((audit_events::kind, audit_events::subject))
            .load(&mut *c)
            .expect("audit")
    }

    pub fn count_audit(&self, kind: &str) -> usize {
        self.audit().iter().filter(|(k, _)| k == kind).count()
    }

    /// The user's TOTP secret (confirmed or being set up).
    pub fn totp_secret(&self, username: &str) -> Vec<u8> {
        let mut c = self.pool.get().expect("conn");
        let hex_secret: String = totp_factors::table
            .inner_join(users::table)
            .filter(users::username.eq(username))
            .select(totp_factors::secret)
            .first(&mut *c)
            .expect("totp secret");
        hex::decode(hex_secret).expect("hex")
    }

    /// The code the authenticator app shows `offset` steps from now.
    pub fn totp_code(&self, username: &str, offset: i64) -> String {
        let secret = self.totp_secret(username);
        let t = self.state_now() + Duration::seconds(30 * offset);
        omakase::auth::totp::code_at(&secret, t)
    }

    pub fn set_mobile(&self, username: &str, mobile: &str) {
        let mut c = self.pool.get().expect("conn");
        diesel::update(users::table.filter(users::username.eq(username)))
            .set(users::mobile.eq(mobile))
            .execute(&mut *c)
            .expect("mobile");
    }

    pub fn user_flag(&self, username: &str) -> (bool, i32) {
        let mut c = self.pool.get().expect("conn");
        users::table
            .filter(users::username.eq(username))
            .select((users::locked, users::failed_logins))
            .first(&mut *c)
            .expect("user")
    }

    /// Messages in the SMS file outbox, oldest first: `(to, message)`.
    pub fn outbox(&self) -> Vec<(String, String)> {
        let dir = self._dir.path().join("sms-outbox");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .map(|p| {
                let v: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json");
                (
                    v["to"].as_str().unwrap_or("").to_string(),
                    v["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    /// The code in the newest SMS.
    pub fn last_sms_code(&self) -> String {
        let (_, message) = self.outbox().pop().expect("an SMS was sent");
        sms_code(&message)
    }
}

/// The six-digit code in a message.
pub fn sms_code(message: &str) -> String {
    let at = message.find(": ").expect("code in message") + 2;
    message[at..at + 6].to_string()
}

impl Browser {
    /// Posts a form with this browser's CSRF token added.
    pub fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf();
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all)
    }

    /// Logs in with the password; returns where the login sent the browser.
    pub fn password_step(&mut self, username: &str) -> String {
        let r = self.login_at("/login", username, PASSWORD);
        assert_eq!(r.status, 303, "login: {}", r.body);
        r.location().to_string()
    }
}

/// Sets up an authenticator app for a logged-in browser; returns the
/// recovery codes page.
pub fn enrol_totp(app: &TestApp, b: &mut Browser, username: &str) -> Page {
    let setup = b.get("/mfa/totp/setup?next=%2F");
    assert_eq!(setup.status, 200, "{}", setup.body);
    let code = app.totp_code(username, 0);
    let done = b.submit("/mfa/totp/setup", &[("code", &code), ("next", "/")]);
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("recovery-codes"), "{}", done.body);
    done
}

/// The recovery codes listed on a page.
pub fn recovery_codes(page: &Page) -> Vec<String> {
    page.body
        .split("<li><code>")
        .skip(1)
        .filter_map(|s| s.split("</code>").next())
        .map(str::to_string)
        .collect()
}

/// A recorded request to the test SMS gateway.
#[derive(Clone, Debug)]
pub struct GatewayHit {
    pub authorization: String,
    pub body: serde_json::Value,
}

/// An HTTP SMS gateway on loopback that records what it receives and
/// answers with a status the test sets.
pub struct SmsGateway {
    pub url: String,
    pub hits: Arc<Mutex<Vec<GatewayHit>>>,
    pub status: Arc<Mutex<u16>>,
}

impl SmsGateway {
    pub fn start() -> SmsGateway {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(Mutex::new(200u16));
        let (h, st) = (hits.clone(), status.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let (mut line, mut len, mut auth) = (String::new(), 0usize, String::new());
                while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) && line != "\r\n"
                {
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("authorization:") {
                        auth = line["authorization:".len()..].trim().to_string();
                    }
                    line.clear();
                }
                let mut body = vec![0u8; len];
                let _ = reader.read_exact(&mut body);
                if let Ok(mut v) = h.lock() {
                    v.push(GatewayHit {
                        authorization: auth,
                        body: serde_json::from_slice(&body).unwrap_or_default(),
                    });
                }
                let code = st.lock().map(|s| *s).unwrap_or(500);
                let _ = stream.write_all(
                    format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .as_bytes(),
                );
            }
        });
        SmsGateway {
            url: format!("http://127.0.0.1:{port}/send"),
            hits,
            status,
        }
    }

    pub fn hits(&self) -> Vec<GatewayHit> {
        self.hits.lock().map(|v| v.clone()).unwrap_or_default()
    }
}
