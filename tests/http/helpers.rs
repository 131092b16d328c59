//! The test harness: the real app on a real socket (port 0) over a
//! temporary SQLite file (or TEST_DATABASE_URL), a browser with a cookie
//! jar, SP fixtures and SAML helpers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use omakase::clock::{Clock, FixedClock};
use omakase::config::Settings;
use omakase::db::models::users::Role;
use omakase::db::DbPool;
use omakase::domain::{services, users};
use omakase::saml::xml_read::{self, XNode};

pub const PASSWORD: &str = "correct-horse-battery";

pub struct TestApp {
    pub base: String,
    pub pool: DbPool,
    pub clock: Arc<FixedClock>,
    pub cert_pem: String,
    pub entity_id: String,
    server: Option<actix_web::dev::ServerHandle>,
    pub _dir: tempfile::TempDir,
}

impl Drop for TestApp {
    /// Stops the server, which drops its state and its database pool (the
    /// PostgreSQL run would otherwise run out of connections).
    fn drop(&mut self) {
        if let Some(h) = self.server.take() {
            // The stop command is sent at once; its completion is not awaited.
            drop(h.stop(false));
        }
    }
}

/// 2026-11-25 12:00:00 UTC, a fixed start for every test.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

static PG_DB: AtomicUsize = AtomicUsize::new(0);

/// With TEST_DATABASE_URL (a PostgreSQL admin URL), each test gets a
/// fresh database on that server; otherwise an SQLite file in the temp dir.
fn database_url() -> Option<String> {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let admin = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let name = format!(
        "omakase_t{}_{}",
        std::process::id(),
        PG_DB.fetch_add(1, Ordering::SeqCst)
    );
    let mut c = diesel::pg::PgConnection::establish(&admin).expect("connect to TEST_DATABASE_URL");
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create test database");
    let (prefix, _) = admin.rsplit_once('/').expect("database URL with a path");
    Some(format!("{prefix}/{name}"))
}

impl TestApp {
    pub fn spawn() -> TestApp {
        Self::spawn_with(|_| {})
    }

    pub fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let base = format!("http://127.0.0.1:{port}");
        let mut settings = Settings {
            base_url: base.clone(),
            data_dir: dir.path().to_path_buf(),
            database_url: database_url(),
            db_pool_size: 4,
            ..Settings::default()
        };
        adjust(&mut settings);
        settings.validate().expect("settings");
        let clock = Arc::new(FixedClock::new(t0()));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let state = omakase::startup::build_state(settings, dyn_clock).expect("state");
        let pool = state.pool.clone();
        let entity_id = state.entity_id.clone();
        let cert_pem = String::from_utf8(state.key.cert().to_pem().expect("pem")).expect("utf8");
        let data = actix_web::web::Data::new(state);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let sys = actix_web::rt::System::new();
            sys.block_on(async move {
                let server =
                    actix_web::HttpServer::new(move || omakase::startup::app(data.clone()))
                        .workers(1)
                        .listen(listener)
                        .expect("listen")
                        .run();
                let _ = tx.send(server.handle());
                let _ = server.await;
            });
        });
        TestApp {
            base,
            pool,
            clock,
            cert_pem,
            entity_id,
            server: rx.recv().ok(),
            _dir: dir,
        }
    }

    pub fn state_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn add_user(&self, username: &str, email: &str, name: &str) {
        self.add_user_as(username, email, name, Role::User);
    }

    pub fn add_user_as(&self, username: &str, email: &str, name: &str, role: Role) {
        let mut c = self.pool.get().expect("conn");
        users::create(
            &mut c,
            &users::UserInput {
                username,
                email,
                display_name: name,
                role,
                password: PASSWORD,
                must_change_password: false,
            },
            self.clock.now(),
        )
        .expect("create user");
    }

    /// Registers an SP from metadata and assigns it to `assign_to`.
    pub fn add_sp(&self, metadata: &str, name: &str, assign_to: &[&str]) -> String {
        let mut c = self.pool.get().expect("conn");
        let r = services::register(
            &mut c,
            metadata,
            None,
            Some(name),
            None,
            480,
            self.clock.now(),
        )
        .expect("register");
        for u in assign_to {
            services::assign(&mut c, &r.entity_id, Some(u), self.clock.now()).expect("assign");
        }
        r.entity_id
    }

    pub fn set_nameid(&self, entity_id: &str, format: &str) {
        use diesel::prelude::*;
        use omakase::db::schema::services::dsl;
        let mut c = self.pool.get().expect("conn");
        diesel::update(dsl::services.filter(dsl::entity_id.eq(entity_id)))
            .set(dsl::nameid_format.eq(format))
            .execute(&mut *c)
            .expect("update");
    }

    pub fn sql(&self, statement: &str) {
        use diesel::connection::SimpleConnection;
        let mut c = self.pool.get().expect("conn");
        c.batch_execute(statement).expect("sql");
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }
}

/// A minimal browser: no redirects followed automatically, a cookie jar.
pub struct Browser {
    pub base: String,
    agent: ureq::Agent,
    pub cookies: HashMap<String, String>,
    pub accept_language: Option<String>,
    pub user_agent: Option<String>,
    /// Further headers sent with every request.
    pub headers: Vec<(String, String)>,
}

pub struct Page {
    pub status: u16,
    pub headers: HashMap<String, Vec<String>>,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location; status {} body {}", self.status, self.body))
    }

    /// The value of the first `<input name="NAME" ... value="...">`.
    pub fn input(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\"");
        let at = self.body.find(&needle)?;
        let tag_start = self.body[..at].rfind('<')?;
        let tag_end = at + self.body[at..].find('>')?;
        let tag = &self.body[tag_start..tag_end];
        let v = tag.find("value=\"")? + 7;
        let end = tag[v..].find('"')? + v;
        Some(html_unescape(&tag[v..end]))
    }

    /// The action of the first form (unescaped).
    pub fn form_action(&self) -> Option<String> {
        let at = self.body.find("<form")?;
        let a = self.body[at..].find("action=\"")? + at + 8;
        let end = self.body[a..].find('"')? + a;
        Some(html_unescape(&self.body[a..end]))
    }
}

pub fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x3D;", "=")
        .replace("&#x60;", "`")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser {
            base: base.to_string(),
            agent: ureq::AgentBuilder::new().redirects(0).build(),
            cookies: HashMap::new(),
            accept_language: None,
            user_agent: None,
            headers: Vec::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn finish(&mut self, r: Result<ureq::Response, ureq::Error>) -> Page {
        let resp = match r {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let mut headers: HashMap<String, Vec<String>> = HashMap::new();
        for name in resp.headers_names() {
            let all = resp.all(&name).into_iter().map(str::to_string).collect();
            headers.insert(name.to_ascii_lowercase(), all);
        }
        for c in headers.get("set-cookie").cloned().unwrap_or_default() {
            let first = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = first.split_once('=') {
                let removal = c.to_ascii_lowercase().contains("max-age=0") || v.is_empty();
                if removal {
                    self.cookies.remove(k.trim());
                } else {
                    self.cookies
                        .insert(k.trim().to_string(), v.trim().to_string());
                }
            }
        }
        let status = resp.status();
        let body = resp.into_string().unwrap_or_default();
        Page {
            status,
            headers,
            body,
        }
    }

    pub fn get(&mut self, path: &str) -> Page {
        let mut req = self
            .agent
            .get(&self.url(path))
            .set("Cookie", &self.cookie_header());
        if let Some(l) = &self.accept_language {
            req = req.set("Accept-Language", l);
        }
        if let Some(ua) = &self.user_agent {
            req = req.set("User-Agent", ua);
        }
        for (k, v) in &self.headers {
            req = req.set(k, v);
        }
        let r = req.call();
        self.finish(r)
    }

    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut req = self
            .agent
            .post(&self.url(path))
            .set("Cookie", &self.cookie_header());
        if let Some(ua) = &self.user_agent {
            req = req.set("User-Agent", ua);
        }
        for (k, v) in &self.headers {
            req = req.set(k, v);
        }
        let r = req.send_form(fields);
        self.finish(r)
    }

    /// Posts multipart/form-data: text fields and at most one file.
    pub fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, &[u8])>,
    ) -> Page {
        let boundary = "----omakase-test-boundary-7d1f";
        let mut body: Vec<u8> = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        if let Some((name, filename, data)) = file {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/xml\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let r = self
            .agent
            .post(&self.url(path))
            .set("Cookie", &self.cookie_header())
            .set(
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .send_bytes(&body);
        self.finish(r)
    }

    /// Posts a raw body (for oversized and malformed forms).
    pub fn post_raw(&mut self, path: &str, body: &str) -> Page {
        let r = self
            .agent
            .post(&self.url(path))
            .set("Cookie", &self.cookie_header())
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(body);
        self.finish(r)
    }

    pub fn csrf(&self) -> String {
        self.cookies
            .get("omakase_csrf")
            .cloned()
            .expect("csrf cookie")
    }

    /// Logs in from the login page reached at `login_path`; returns the
    /// response to the POST.
    pub fn login_at(&mut self, login_path: &str, username: &str, password: &str) -> Page {
        let page = self.get(login_path);
        assert_eq!(page.status, 200, "login page: {}", page.body);
        let next = page.input("next").unwrap_or_else(|| "/".into());
        let csrf = page.input("csrf_token").expect("csrf field");
        self.post(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf_token", &csrf),
                ("next", &next),
            ],
        )
    }

    pub fn login(&mut self, username: &str) {
        let r = self.login_at("/login", username, PASSWORD);
        assert_eq!(r.status, 303, "login failed: {}", r.body);
    }
}

// ---------------------------------------------------------------- SPs

pub struct SpFixture {
    pub entity_id: String,
    pub acs: Vec<String>,
    pub key_pem: String,
    pub cert_b64: String,
}

impl SpFixture {
    pub fn new(name: &str) -> SpFixture {
        let (key_pem, cert_pem) = omakase::saml::keygen::generate_key_pair(name).expect("kg");
        let cert = openssl::x509::X509::from_pem(cert_pem.as_bytes()).expect("cert");
        SpFixture {
            entity_id: format!("https://{name}.example/sp"),
            acs: vec![
                format!("https://{name}.example/acs"),
                format!("https://{name}.example/acs2"),
            ],
            key_pem,
            cert_b64: B64.encode(cert.to_der().expect("der")),
        }
    }

    pub fn metadata(&self, signed_requests: bool) -> String {
        format!(
            r#"<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{e}" cacheDuration="PT6H">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="{signed}" WantAssertionsSigned="true">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{c}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{a0}" index="0" isDefault="true"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{a1}" index="1"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="{a0}/artifact" index="2"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#,
            e = self.entity_id,
            c = self.cert_b64,
            a0 = self.acs[0],
            a1 = self.acs[1],
            signed = signed_requests,
        )
    }

    /// Signs an HTTP-Redirect query (SAMLRequest[&RelayState]) with RSA-SHA256.
    pub fn sign_query(&self, query: &str) -> String {
        use openssl::hash::MessageDigest;
        use openssl::pkey::PKey;
        use openssl::sign::Signer;
        let signed = format!(
            "{query}&SigAlg={}",
            enc("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
        );
        let key = PKey::private_key_from_pem(self.key_pem.as_bytes()).expect("key");
        let mut s = Signer::new(MessageDigest::sha256(), &key).expect("signer");
        s.update(signed.as_bytes()).expect("update");
        let sig = B64.encode(s.sign_to_vec().expect("sign"));
        format!("{signed}&Signature={}", enc(&sig))
    }
}

pub struct Req<'a> {
    pub id: &'a str,
    pub issuer: &'a str,
    pub instant: DateTime<Utc>,
    pub attrs: String,
    pub body: String,
}

impl<'a> Req<'a> {
    pub fn new(id: &'a str, issuer: &'a str, instant: DateTime<Utc>) -> Self {
        Req {
            id,
            issuer,
            instant,
            attrs: String::new(),
            body: String::new(),
        }
    }

    pub fn attr(mut self, a: &str) -> Self {
        self.attrs.push(' ');
        self.attrs.push_str(a);
        self
    }

    pub fn body(mut self, b: &str) -> Self {
        self.body.push_str(b);
        self
    }

    pub fn xml(&self) -> String {
        format!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{}" Version="2.0" IssueInstant="{}"{}><saml:Issuer>{}</saml:Issuer>{}</samlp:AuthnRequest>"#,
            self.id,
            self.instant.format("%Y-%m-%dT%H:%M:%SZ"),
            self.attrs,
            self.issuer,
            self.body
        )
    }

    pub fn redirect_query(&self) -> String {
        format!(
            "SAMLRequest={}",
            enc(&omakase::saml::binding::encode_redirect(&self.xml()))
        )
    }
}

/// The decoded SAML response of an auto-post page, with its form fields.
pub struct Posted {
    pub action: String,
    pub xml: String,
    pub root: XNode,
    pub relay_state: Option<String>,
}

pub fn posted(page: &Page) -> Posted {
    assert_eq!(
        page.status, 200,
        "expected the SAML POST page, got {}: {}",
        page.status, page.body
    );
    let action = page.form_action().expect("form action");
    let b64 = page.input("SAMLResponse").expect("SAMLResponse field");
    let xml = String::from_utf8(B64.decode(b64).expect("base64")).expect("utf8");
    let root = xml_read::parse(&xml).expect("response parses");
    Posted {
        action,
        relay_state: page.input("RelayState"),
        xml,
        root,
    }
}

pub const P: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const A: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

impl Posted {
    pub fn status(&self) -> Vec<String> {
        let mut codes = Vec::new();
        self.root.descendants(P, "StatusCode", &mut codes);
        codes
            .iter()
            .filter_map(|c| c.attr("Value").map(str::to_string))
            .collect()
    }

    pub fn assertion(&self) -> &XNode {
        self.root.child(A, "Assertion").expect("assertion")
    }

    pub fn has_assertion(&self) -> bool {
        self.root.child(A, "Assertion").is_some()
    }

    pub fn name_id(&self) -> (String, String) {
        let n = self
            .assertion()
            .child(A, "Subject")
            .and_then(|s| s.child(A, "NameID"))
            .expect("NameID");
        (n.attr("Format").unwrap_or("").to_string(), n.text.clone())
    }

    pub fn attribute(&self, friendly: &str) -> Vec<String> {
        let mut attrs = Vec::new();
        self.assertion().descendants(A, "Attribute", &mut attrs);
        attrs
            .iter()
            .filter(|a| a.attr("FriendlyName") == Some(friendly))
            .flat_map(|a| {
                a.children_named(A, "AttributeValue")
                    .map(|v| v.text.clone())
            })
            .collect()
    }

    pub fn attribute_count(&self) -> usize {
        let mut attrs = Vec::new();
        self.assertion().descendants(A, "Attribute", &mut attrs);
        attrs.len()
    }

    pub fn find(&self, local: &str) -> Vec<&XNode> {
        let mut v = Vec::new();
        self.root.descendants(A, local, &mut v);
        v
    }
}

/// Runs xmlsec1 --verify on the first signature under `node` (Response or
/// Assertion). Returns None when xmlsec1 is not installed and not required.
pub fn xmlsec_verify(xml: &str, cert_pem: &str, node: &str) -> Option<(bool, String)> {
    let have = std::process::Command::new("xmlsec1")
        .arg("--version")
        .output()
        .is_ok();
    if !have {
        assert!(
            std::env::var("OMAKASE_REQUIRE_TOOLS").is_err(),
            "xmlsec1 is required (OMAKASE_REQUIRE_TOOLS is set) but not installed"
        );
        eprintln!("xmlsec1 not installed: independent signature check skipped");
        return None;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let doc = dir.path().join("resp.xml");
    let cert = dir.path().join("idp.pem");
    std::fs::write(&doc, xml).expect("write");
    std::fs::write(&cert, cert_pem).expect("write");
    let out = std::process::Command::new("xmlsec1")
        .args([
            "--verify",
            "--pubkey-cert-pem",
            cert.to_str().expect("p"),
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:Response",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            "--node-xpath",
            node,
            doc.to_str().expect("p"),
        ])
        .output()
        .expect("xmlsec1 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), text))
}

/// Serves `body` once over HTTP on a free loopback port; returns the URL.
pub fn serve_once(body: String) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) && line != "\r\n" {
                line.clear();
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/samlmetadata+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    format!("http://127.0.0.1:{port}/Shibboleth.sso/Metadata")
}

/// A metadata server whose answer (status, body) the test can change.
pub struct MetadataServer {
    pub url: String,
    answer: Arc<std::sync::Mutex<(u16, String)>>,
}

impl MetadataServer {
    pub fn start(body: String) -> MetadataServer {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let answer = Arc::new(std::sync::Mutex::new((200u16, body)));
        let shared = answer.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) && line != "\r\n"
                {
                    line.clear();
                }
                let (status, body) = shared
                    .lock()
                    .map(|a| a.clone())
                    .unwrap_or((500, String::new()));
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/samlmetadata+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_bytes());
            }
        });
        MetadataServer {
            url: format!("http://127.0.0.1:{port}/metadata"),
            answer,
        }
    }

    pub fn set(&self, status: u16, body: String) {
        if let Ok(mut a) = self.answer.lock() {
            *a = (status, body);
        }
    }
}
