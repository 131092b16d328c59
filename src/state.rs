//! The application state shared by all workers.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::auth::sms::SmsSender;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::DbPool;
use crate::saml::sign::SigningKey;
use crate::templates::Templates;

pub struct AppState {
    pub settings: Settings,
    pub pool: DbPool,
    pub key: Arc<SigningKey>,
    /// Secret from which persistent NameIDs are derived.
    pub persistent_secret: Vec<u8>,
    pub templates: Templates,
    pub clock: Arc<dyn Clock>,
    pub entity_id: String,
    pub sso_url: String,
    /// The IdP metadata document, rendered once.
    pub metadata_xml: String,
    /// Where SMS one-time codes go.
    pub sms: Arc<dyn SmsSender>,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::minutes(self.settings.session_idle_minutes)
    }

    pub fn absolute_timeout(&self) -> Duration {
        Duration::hours(self.settings.session_absolute_hours)
    }

    pub fn clock_skew(&self) -> Duration {
        Duration::seconds(self.settings.clock_skew_seconds)
    }

    /// A stored UTC time shown in the configured zone, `2024/02/22 14:31:45`.
    pub fn format_time(&self, t: chrono::NaiveDateTime) -> String {
        crate::db::from_naive(t)
            .with_timezone(&self.settings.tz())
            .format("%Y/%m/%d %H:%M:%S")
            .to_string()
    }
}
