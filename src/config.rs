//! Settings: `omakase.toml` (optional), then `OMAKASE_*` environment variables.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

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
        }
    }
}

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
        Ok(())
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
