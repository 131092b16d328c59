//! Sending SMS one-time codes: an HTTP gateway for production, a file
//! outbox (one JSON file a message) for development and tests.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("SMS gateway: {0}")]
    Gateway(String),
    #[error("SMS outbox: {0}")]
    Outbox(String),
}

/// Something that delivers a text message to a phone number.
pub trait SmsSender: Send + Sync {
    fn send(&self, to: &str, message: &str) -> Result<(), SmsError>;
    /// What the start-up log says about where messages go.
    fn describe(&self) -> String;
}

/// Writes each message as `{dir}/{unix-nanos}-{n}.json`:
/// `{"to": "...", "message": "..."}`.
pub struct FileOutbox {
    pub dir: PathBuf,
}

impl SmsSender for FileOutbox {
    fn send(&self, to: &str, message: &str) -> Result<(), SmsError> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| SmsError::Outbox(format!("{}: {e}", self.dir.display())))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!("{nanos:020}-{:08x}.json", rand::random::<u32>());
        let body = serde_json::json!({ "to": to, "message": message });
        let tmp = self.dir.join(format!(".{name}"));
        std::fs::write(&tmp, body.to_string())
            .and_then(|()| std::fs::rename(&tmp, self.dir.join(&name)))
            .map_err(|e| SmsError::Outbox(format!("{}: {e}", self.dir.display())))
    }

    fn describe(&self) -> String {
        format!("file outbox {}", self.dir.display())
    }
}

/// POSTs a JSON body made from a template to a gateway URL.
pub struct HttpGateway {
    url: String,
    /// `(name, value)` of the authentication header, if any.
    auth: Option<(String, String)>,
    template: Value,
    agent: ureq::Agent,
}

impl HttpGateway {
    /// `auth_header` is `Name: value`; `template` is JSON whose strings may
    /// contain `{to}` and `{message}`.
    pub fn new(url: &str, auth_header: Option<&str>, template: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("sms_gateway_url: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("sms_gateway_url: must be an http or https URL".into());
        }
        let auth = match auth_header.map(str::trim).filter(|h| !h.is_empty()) {
            None => None,
            Some(h) => {
                let (name, value) = h
                    .split_once(':')
                    .ok_or("sms_gateway_auth_header: must be `Name: value`")?;
                let name = name.trim();
                if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                {
                    return Err("sms_gateway_auth_header: invalid header name".into());
                }
                Some((name.to_string(), value.trim().to_string()))
            }
        };
        let template: Value = serde_json::from_str(template)
            .map_err(|e| format!("sms_gateway_body: not JSON: {e}"))?;
        if !template.to_string().contains("{message}") {
            return Err("sms_gateway_body: must contain {message}".into());
        }
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(10))
            .redirects(0)
            .build();
        Ok(HttpGateway {
            url: url.to_string(),
            auth,
            template,
            agent,
        })
    }

    /// The request body for one message (values JSON-escaped).
    pub fn body(&self, to: &str, message: &str) -> Value {
        fill(&self.template, to, message)
    }
}

fn fill(v: &Value, to: &str, message: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("{to}", to).replace("{message}", message)),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, to, message)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), fill(x, to, message)))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl SmsSender for HttpGateway {
    fn send(&self, to: &str, message: &str) -> Result<(), SmsError> {
        let mut req = self.agent.post(&self.url);
        if let Some((name, value)) = &self.auth {
            req = req.set(name, value);
        }
        let body = self.body(to, message).to_string();
        match req
            .set("Content-Type", "application/json")
            .send_string(&body)
        {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(code, _)) => {
                Err(SmsError::Gateway(format!("the gateway answered {code}")))
            }
            Err(e) => Err(SmsError::Gateway(e.to_string())),
        }
    }

    fn describe(&self) -> String {
        format!("HTTP gateway {}", self.url)
    }
}

/// A phone number as the gateway wants it: digits with an optional
/// leading +; a Japanese national number (0…) becomes +81….
pub fn to_e164(number: &str) -> Option<String> {
    let plus = number.trim_start().starts_with('+');
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 8 || digits.len() > 15 {
        return None;
    }
    Some(if plus {
        format!("+{digits}")
    } else if let Some(national) = digits.strip_prefix('0') {
        format!("+81{national}")
    } else {
        format!("+{digits}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_values_are_escaped() {
        let g = HttpGateway::new(
            "https://sms.example/send",
            Some("Authorization: Bearer abc"),
            r#"{"to":"{to}","text":"{message}","meta":["{to}",1,true]}"#,
        )
        .expect("gateway");
        let body = g.body("+819012345678", "code \"1\"\n");
        assert_eq!(body["to"], "+819012345678");
        assert_eq!(body["text"], "code \"1\"\n");
        assert_eq!(body["meta"][0], "+819012345678");
        assert_eq!(body["meta"][1], 1);
        assert!(HttpGateway::new("ftp://x", None, "{}").is_err());
        assert!(HttpGateway::new("https://x", Some("no colon"), r#"{"m":"{message}"}"#).is_err());
        assert!(HttpGateway::new("https://x", None, "not json").is_err());
        assert!(HttpGateway::new("https://x", None, r#"{"m":"x"}"#).is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(to_e164("090-1234-5678").as_deref(), Some("+819012345678"));
        assert_eq!(
            to_e164("+1 (415) 555-0100").as_deref(),
            Some("+14155550100")
        );
        assert_eq!(to_e164("123"), None);
    }

    #[test]
    fn outbox_writes_one_file_per_message() {
        let dir = tempfile::tempdir().expect("tmp");
        let o = FileOutbox {
            dir: dir.path().join("out"),
        };
        o.send("+819012345678", "one").expect("send");
        o.send("+819012345678", "two").expect("send");
        let files: Vec<_> = std::fs::read_dir(dir.path().join("out"))
            .expect("dir")
            .filter_map(Result::ok)
            .collect();
        assert_eq!(files.len(), 2);
    }
}
