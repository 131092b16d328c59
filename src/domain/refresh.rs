//! Refreshing the metadata of services registered from a URL, on schedule
//! (honouring cacheDuration and validUntil) and on demand. A failed refresh
//! keeps the last good metadata and records the failure.

use chrono::{DateTime, Duration, Utc};

use super::services::{self as svc, ServiceError};
use crate::db::models::audit::{self, Event};
use crate::db::models::services::{self, Service};
use crate::db::{self, to_naive, DbConn, DbPool};
use crate::saml::sp_metadata::SpMetadata;

/// Without cacheDuration, metadata is fetched again after a day.
pub const DEFAULT_INTERVAL: Duration = Duration::hours(24);
const MIN_INTERVAL: Duration = Duration::minutes(5);
const MAX_INTERVAL: Duration = Duration::days(7);
/// After a failure, try again in an hour.
pub const RETRY_AFTER: Duration = Duration::hours(1);

/// An xs:duration such as P1D, PT6H or P1DT12H30M (years and months count
/// as 365 and 30 days).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim().strip_prefix('P')?;
    let (date, time) = s.split_once('T').unwrap_or((s, ""));
    let mut total = Duration::zero();
    let mut take = |part: &str, units: &[(char, i64)]| -> Option<()> {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
                continue;
            }
            let secs = units.iter().find(|(u, _)| *u == c)?.1;
            let n: f64 = num.parse().ok()?;
            total += Duration::milliseconds((n * secs as f64 * 1000.0) as i64);
            num.clear();
        }
        num.is_empty().then_some(())
    };
    take(
        date,
        &[
            ('Y', 365 * 86_400),
            ('M', 30 * 86_400),
            ('W', 7 * 86_400),
            ('D', 86_400),
        ],
    )?;
    take(time, &[('H', 3600), ('M', 60), ('S', 1)])?;
    Some(total)
}

/// When to fetch again: after cacheDuration (bounded), and no later than
/// validUntil.
pub fn next_refresh(m: &SpMetadata, now: DateTime<Utc>) -> DateTime<Utc> {
    let interval = m
        .cache_duration
        .as_deref()
        .and_then(parse_duration)
        .unwrap_or(DEFAULT_INTERVAL)
        .clamp(MIN_INTERVAL, MAX_INTERVAL);
    let mut next = now + interval;
    if let Some(until) = m
        .valid_until
        .as_deref()
        .and_then(crate::saml::authn_request::parse_instant)
    {
        if until < next {
            next = until.max(now + MIN_INTERVAL);
        }
    }
    next
}

/// Fetches and applies one service's metadata; records success or failure.
/// Blocking (network and database): run it on a blocking thread.
pub fn refresh(
    conn: &mut DbConn,
    s: &Service,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let Some(url) = s.metadata_url.clone() else {
        return Err(ServiceError::Read(
            s.entity_id.clone(),
            "not registered from a URL".into(),
        ));
    };
    let result = svc::read_source(&url).and_then(|(xml, _)| {
        let m = SpMetadata::parse(&xml)?;
        if m.entity_id != s.entity_id {
            return Err(ServiceError::Read(
                url.clone(),
                format!("the metadata is for {}", m.entity_id),
            ));
        }
        svc::check_valid_until(&m, now)?;
        Ok((xml, m))
    });
    match result {
        Ok((xml, m)) => {
            let minutes = s.session_minutes;
            svc::register(conn, &xml, Some(url.clone()), None, None, minutes, now)?;
            services::set_refresh(
                conn,
                s.id,
                Some(to_naive(now)),
                to_naive(next_refresh(&m, now)),
                "",
            )?;
            let e = Event::new("service.refresh", actor).service(&s.entity_id);
            audit::insert(conn, &e, now)?;
            Ok(())
        }
        Err(err) => {
            let msg = err.to_string();
            services::set_refresh(conn, s.id, None, to_naive(now + RETRY_AFTER), &msg)?;
            let e = Event::new("service.refresh_failed", actor)
                .service(&s.entity_id)
                .detail(serde_json::json!({ "error": msg }));
            audit::insert(conn, &e, now)?;
            Err(err)
        }
    }
}

/// Refreshes every service that is due; returns how many were tried.
pub fn refresh_due(pool: &DbPool, now: DateTime<Utc>) -> Result<usize, db::DbError> {
    let due = db::run_sync(pool, |c| services::list_due(c, to_naive(now)))?;
    for s in &due {
        let mut conn = pool.get()?;
        if let Err(e) = refresh(&mut conn, s, "system", now) {
            tracing::warn!(sp = %s.entity_id, error = %e, "metadata refresh failed; keeping the last good metadata");
        }
    }
    Ok(due.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("PT6H"), Some(Duration::hours(6)));
        assert_eq!(parse_duration("P1D"), Some(Duration::days(1)));
        assert_eq!(
            parse_duration("P1DT12H30M"),
            Some(Duration::minutes(36 * 60 + 30))
        );
        assert_eq!(parse_duration("PT90S"), Some(Duration::seconds(90)));
        assert_eq!(parse_duration("PT0.5S"), Some(Duration::milliseconds(500)));
        assert_eq!(parse_duration("6H"), None);
        assert_eq!(parse_duration("PT6X"), None);
    }
}
