//! The time source, passed in so that tests can pin it.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock, truncated to microseconds (what both databases keep).
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> DateTime<Utc> {
        truncate(Utc::now())
    }
}

/// A settable clock for tests.
pub struct FixedClock {
    micros: AtomicI64,
}

impl FixedClock {
    pub fn new(t: DateTime<Utc>) -> Self {
        FixedClock {
            micros: AtomicI64::new(t.timestamp_micros()),
        }
    }

    pub fn advance(&self, d: Duration) {
        self.micros
            .fetch_add(d.num_microseconds().unwrap_or(0), Ordering::SeqCst);
    }

    pub fn set(&self, t: DateTime<Utc>) {
        self.micros.store(t.timestamp_micros(), Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.micros.load(Ordering::SeqCst)).unwrap_or_default()
    }
}

pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}
