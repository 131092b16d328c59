//! Settings: `omakase.toml` (optional), then `OMAKASE_*` environment variables.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

use crate::auth::sms::{FileOutbox, HttpGateway, SmsSender};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Version of the configuration format.
    pub version: u32,
    /// Address to listen on.
    pub listen: String,
    /// Public base URL; the IdP entity ID is `{base_url}/saml/metadata`.
    pub base_url: String,
    /// Directory of the embedded database and other local state.
    pub data_dir: PathBuf,
    /// Database URL: `postgres://…` or an SQLite path (`sqlite://…`).
    pub database_url: Option<String>,
    /// Time zone in which dates are shown.
    pub time_zone: String,
    /// An IdP session ends after this many idle minutes.
    pub session_idle_minutes: i64,
    /// An IdP session ends this many hours after login, whatever the activity.
    pub session_absolute_hours: i64,
    /// Session lifetime at a newly registered service (SessionNotOnOrAfter).
    pub service_session_minutes: i64,
    /// Allowed clock difference with service providers, in seconds.
    pub clock_skew_seconds: i64,
    /// Database pool size.
    pub db_pool_size: u32,
    /// Wrong passwords (or second-factor codes) in a row that lock an account.
    pub lockout_threshold: i32,
    /// A locked account unlocks itself after this many minutes; 0: only an
    /// admin unlocks it.
    pub lockout_cooldown_minutes: i64,
    /// Failed logins from one IP address allowed per window.
    pub login_ip_max_failures: i32,
    /// The window of the per-IP throttle, in minutes.
    pub login_ip_window_minutes: i64,
    /// Shortest password a person may choose.
    pub password_min_length: usize,
    /// Refuse passwords from the built-in list of common passwords.
    pub password_refuse_common: bool,
    /// `outbox` (files in `sms_outbox_dir`) or `http` (the gateway).
    pub sms_sender: String,
    /// Where the outbox writes messages; default `{data_dir}/sms-outbox`.
    pub sms_outbox_dir: Option<PathBuf>,
    /// The gateway's URL (with `sms_sender = "http"`).
    pub sms_gateway_url: String,
    /// `Name: value` header sent to the gateway, e.g. `Authorization: Bearer …`.
    pub sms_gateway_auth_header: String,
    /// JSON body template; `{to}` and `{message}` are replaced in its strings.
    pub sms_gateway_body: String,
    /// Reverse proxies whose X-Forwarded-For is believed (for the client
    /// address in the login throttle, the audit log and the sessions list).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            version: 1,
            listen: "127.0.0.1:8080".into(),
            base_url: "http://127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            time_zone: "Asia/Tokyo".into(),
            session_idle_minutes: 60,
            session_absolute_hours: 10,
            service_session_minutes: 480,
            clock_skew_seconds: 180,
            db_pool_size: 8,
            lockout_threshold: 5,
            lockout_cooldown_minutes: 0,
            login_ip_max_failures: 30,
            login_ip_window_minutes: 15,
            password_min_length: 12,
            password_refuse_common: true,
            sms_sender: "outbox".into(),
            sms_outbox_dir: None,
            sms_gateway_url: String::new(),
            sms_gateway_auth_header: String::new(),
            sms_gateway_body: DEFAULT_SMS_BODY.into(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// The gateway body unless configured otherwise.
pub const DEFAULT_SMS_BODY: &str = r#"{"to":"{to}","message":"{message}"}"#;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_num<T: std::str::FromStr>(name: &str, target: &mut T) -> anyhow::Result<()> {
    if let Some(v) = env(name) {
        *target = v
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}: not a number: {v}"))?;
    }
    Ok(())
}

impl Settings {
    /// Reads the file (if given or if `./omakase.toml` exists), applies the
    /// environment and validates the result.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let default_path = Path::new("omakase.toml");
        let file = match path {
            Some(p) => Some(p),
            None if default_path.exists() => Some(default_path),
            None => None,
        };
        let mut s = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| {
                    format!("cannot read the configuration file {}", p.display())
                })?;
                toml::from_str::<Settings>(&text)
                    .with_context(|| format!("invalid configuration in {}", p.display()))?
            }
            None => Settings::default(),
        };
        s.apply_env()?;
        s.validate()?;
        Ok(s)
    }

    fn apply_env(&mut self) -> anyhow::Result<()> {
        if let Some(v) = env("OMAKASE_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = env("OMAKASE_BASE_URL") {
            self.base_url = v;
        }
        if let Some(v) = env("OMAKASE_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = env("OMAKASE_DATABASE_URL") {
            self.database_url = Some(v);
        }
        if let Some(v) = env("OMAKASE_TIME_ZONE") {
            self.time_zone = v;
        }
        env_num(
            "OMAKASE_SESSION_IDLE_MINUTES",
            &mut self.session_idle_minutes,
        )?;
        env_num(
            "OMAKASE_SESSION_ABSOLUTE_HOURS",
            &mut self.session_absolute_hours,
        )?;
        env_num(
            "OMAKASE_SERVICE_SESSION_MINUTES",
            &mut self.service_session_minutes,
        )?;
        env_num("OMAKASE_CLOCK_SKEW_SECONDS", &mut self.clock_skew_seconds)?;
        env_num("OMAKASE_DB_POOL_SIZE", &mut self.db_pool_size)?;
        env_num("OMAKASE_LOCKOUT_THRESHOLD", &mut self.lockout_threshold)?;
        env_num(
            "OMAKASE_LOCKOUT_COOLDOWN_MINUTES",
            &mut self.lockout_cooldown_minutes,
        )?;
        env_num(
            "OMAKASE_LOGIN_IP_MAX_FAILURES",
            &mut self.login_ip_max_failures,
        )?;
        env_num(
            "OMAKASE_LOGIN_IP_WINDOW_MINUTES",
            &mut self.login_ip_window_minutes,
        )?;
        env_num("OMAKASE_PASSWORD_MIN_LENGTH", &mut self.password_min_length)?;
        if let Some(v) = env("OMAKASE_PASSWORD_REFUSE_COMMON") {
            self.password_refuse_common = matches!(v.trim(), "1" | "true" | "yes" | "on");
        }
        if let Some(v) = env("OMAKASE_SMS_SENDER") {
            self.sms_sender = v;
        }
        if let Some(v) = env("OMAKASE_SMS_OUTBOX_DIR") {
            self.sms_outbox_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = env("OMAKASE_SMS_GATEWAY_URL") {
            self.sms_gateway_url = v;
        }
        if let Some(v) = env("OMAKASE_SMS_GATEWAY_AUTH_HEADER") {
            self.sms_gateway_auth_header = v;
        }
        if let Some(path) = env("OMAKASE_SMS_GATEWAY_AUTH_HEADER_FILE") {
            self.sms_gateway_auth_header = std::fs::read_to_string(&path)
                .with_context(|| {
                    format!("OMAKASE_SMS_GATEWAY_AUTH_HEADER_FILE: cannot read {path}")
                })?
                .trim()
                .to_string();
        }
        if let Some(v) = env("OMAKASE_SMS_GATEWAY_BODY") {
            self.sms_gateway_body = v;
        }
        if let Some(v) = env("OMAKASE_TRUSTED_PROXIES") {
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| {
                    a.parse().map_err(|_| {
                        anyhow::anyhow!("OMAKASE_TRUSTED_PROXIES: not an IP address: {a}")
                    })
                })
                .collect::<anyhow::Result<_>>()?;
        }
        Ok(())
    }

    pub fn validate(&mut self) -> anyhow::Result<()> {
        if self.version != 1 {
            bail!(
                "version: unsupported configuration version {}",
                self.version
            );
        }
        let trimmed = self.base_url.trim().trim_end_matches('/').to_string();
        let url =
            url::Url::parse(&trimmed).with_context(|| format!("base_url: not a URL: {trimmed}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            bail!("base_url: must be an http or https URL: {trimmed}");
        }
        if url.query().is_some() || url.fragment().is_some() {
            bail!("base_url: must not have a query or fragment: {trimmed}");
        }
        self.base_url = trimmed;
        self.time_zone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| anyhow::anyhow!("time_zone: unknown time zone {}", self.time_zone))?;
        for (name, v) in [
            ("session_idle_minutes", self.session_idle_minutes),
            ("session_absolute_hours", self.session_absolute_hours),
            ("service_session_minutes", self.service_session_minutes),
        ] {
            if v <= 0 {
                bail!("{name}: must be positive");
            }
        }
        if !(0..=3600).contains(&self.clock_skew_seconds) {
            bail!("clock_skew_seconds: must be between 0 and 3600");
        }
        if self.db_pool_size == 0 {
            bail!("db_pool_size: must be positive");
        }
        if !(1..=100).contains(&self.lockout_threshold) {
            bail!("lockout_threshold: must be between 1 and 100");
        }
        if self.lockout_cooldown_minutes < 0 {
            bail!("lockout_cooldown_minutes: must be 0 (off) or positive");
        }
        if self.login_ip_max_failures < 1 || self.login_ip_window_minutes < 1 {
            bail!("login_ip_max_failures and login_ip_window_minutes: must be positive");
        }
        if !(8..=128).contains(&self.password_min_length) {
            bail!("password_min_length: must be between 8 and 128");
        }
        self.sms_sender()
            .map_err(|e| anyhow::anyhow!(e))
            .map(|_| ())?;
        Ok(())
    }

    /// A copy fit to print: the gateway header and a database password hidden.
    pub fn redacted(&self) -> Settings {
        let mut s = self.clone();
        if !s.sms_gateway_auth_header.is_empty() {
            s.sms_gateway_auth_header = "(hidden)".into();
        }
        if let Some(u) = s
            .database_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
        {
            if u.password().is_some() {
                let mut u = u;
                let _ = u.set_password(Some("hidden"));
                s.database_url = Some(u.to_string());
            }
        }
        s
    }

    /// The configured SMS sender.
    pub fn sms_sender(&self) -> Result<Box<dyn SmsSender>, String> {
        match self.sms_sender.as_str() {
            "outbox" => Ok(Box::new(FileOutbox {
                dir: self
                    .sms_outbox_dir
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join("sms-outbox")),
            })),
            "http" => {
                if self.sms_gateway_url.is_empty() {
                    return Err("sms_gateway_url: needed with sms_sender = \"http\"".into());
                }
                let auth = Some(self.sms_gateway_auth_header.as_str());
                Ok(Box::new(HttpGateway::new(
                    &self.sms_gateway_url,
                    auth,
                    &self.sms_gateway_body,
                )?))
            }
            other => Err(format!("sms_sender: `outbox` or `http`, not `{other}`")),
        }
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::Asia::Tokyo)
    }

    pub fn entity_id(&self) -> String {
        format!("{}/saml/metadata", self.base_url)
    }

    pub fn sso_url(&self) -> String {
        format!("{}/saml/sso", self.base_url)
    }

    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// The database URL, defaulting to an SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("omakase.db").display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_and_normalises() {
        let mut s = Settings {
            base_url: "https://idp.example.com/".into(),
            ..Settings::default()
        };
        s.validate().expect("valid");
        assert_eq!(s.entity_id(), "https://idp.example.com/saml/metadata");
        assert!(s.secure_cookies());
        let mut bad = Settings {
            base_url: "ftp://x".into(),
            ..Settings::default()
        };
        assert!(bad.validate().is_err());
        let mut bad_tz = Settings {
            time_zone: "Mars/Olympus".into(),
            ..Settings::default()
        };
        assert!(bad_tz.validate().is_err());
    }

    #[test]
    fn parses_toml_and_rejects_unknown_keys() {
        let s: Settings =
            toml::from_str("listen = \"0.0.0.0:9000\"\ntime_zone = \"UTC\"").expect("toml");
        assert_eq!(s.listen, "0.0.0.0:9000");
        assert_eq!(s.session_idle_minutes, 60);
        assert!(toml::from_str::<Settings>("lisen = \"x\"").is_err());
    }
}
