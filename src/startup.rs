//! Building the application state and the actix App; running the server.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{middleware, web, App, HttpServer};
use anyhow::Context;
use rand::RngCore;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::models::{keys, sessions};
use crate::db::{self, DbPool};
use crate::saml::keygen::generate_key_pair;
use crate::saml::metadata::{self, IdpMetadata};
use crate::saml::sign::SigningKey;
use crate::state::AppState;
use crate::web::{errors, security};

/// Connects to the configured database and applies pending migrations.
pub fn open_database(settings: &Settings) -> anyhow::Result<DbPool> {
    let url = settings.database_url();
    let pool =
        db::connect(&url, settings.db_pool_size).with_context(|| "cannot open the database")?;
    db::migrate(&pool).context("cannot apply the database migrations")?;
    Ok(pool)
}

/// The signing key in the database, created (RSA-2048, self-signed) by the
/// first instance that starts on it.
fn signing_key(
    pool: &DbPool,
    settings: &Settings,
    clock: &dyn Clock,
) -> anyhow::Result<SigningKey> {
    let host = url::Url::parse(&settings.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "omakase".into());
    let now = db::to_naive(clock.now());
    let (stored, created) = db::run_sync(pool, |c| {
        keys::get_or_insert_key(c, keys::CURRENT, now, || {
            let (k, cert) =
                generate_key_pair(&host).map_err(|e| db::DbError::Migration(e.to_string()))?;
            Ok(keys::StoredKey {
                private_key_pem: k,
                certificate_pem: cert,
            })
        })
    })?;
    if created {
        tracing::info!("generated a new RSA-2048 signing key and self-signed certificate");
    }
    SigningKey::from_pem(
        stored.private_key_pem.as_bytes(),
        stored.certificate_pem.as_bytes(),
    )
    .context("the stored signing key is unusable")
}

pub fn build_state(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let pool = open_database(&settings)?;
    let key = signing_key(&pool, &settings, clock.as_ref())?;
    let secret = db::run_sync(&pool, |c| {
        keys::get_or_insert_secret(c, "persistent_id", || {
            let mut b = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut b);
            hex::encode(b)
        })
    })?;
    let templates = crate::templates::load().map_err(anyhow::Error::msg)?;
    let sms: Arc<dyn crate::auth::sms::SmsSender> =
        Arc::from(settings.sms_sender().map_err(anyhow::Error::msg)?);
    let entity_id = settings.entity_id();
    let sso_url = settings.sso_url();
    let metadata_xml = metadata::render(&IdpMetadata {
        entity_id: &entity_id,
        sso_url: &sso_url,
        signing_certs: &[key.cert_b64()],
    });
    Ok(AppState {
        pool,
        key: Arc::new(key),
        persistent_secret: secret.into_bytes(),
        templates,
        clock,
        entity_id,
        sso_url,
        metadata_xml,
        sms,
        settings,
    })
}

/// The application, as served and as tested.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let https = state.settings.secure_cookies();
    App::new()
        .app_data(state)
        .wrap(errors::handlers())
        .wrap(security::headers(https))
        .wrap(middleware::Logger::new("%a %U %s %b %Dms"))
        .configure(crate::web::configure)
}

/// Serves until stopped, purging expired sessions every ten minutes.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let listen = state.settings.listen.clone();
    let data = web::Data::new(state);
    let purge = data.clone();
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            let (now, idle) = (purge.now(), purge.idle_timeout());
            let policy = crate::auth::lockout::Policy::of(&purge.settings);
            let purged = db::run(&purge.pool, move |c| {
                sessions::purge_expired(c, now, idle)?;
                crate::auth::lockout::purge(c, &policy, now)?;
                crate::db::models::mfa::purge_sms(c, now - chrono::Duration::days(1))
            })
            .await;
            if let Err(e) = purged {
                tracing::warn!(error = %e, "session purge failed");
            }
        }
    });
    let refresher = data.clone();
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(300));
        loop {
            tick.tick().await;
            let (pool, now) = (refresher.pool.clone(), refresher.now());
            match actix_web::web::block(move || crate::domain::refresh::refresh_due(&pool, now))
                .await
            {
                Ok(Ok(n)) if n > 0 => tracing::info!(services = n, "metadata refreshed"),
                Ok(Err(e)) => tracing::warn!(error = %e, "metadata refresh round failed"),
                _ => {}
            }
        }
    });
    tracing::info!(listen = %listen, entity_id = %data.entity_id, sms = %data.sms.describe(), "omakase is serving");
    HttpServer::new(move || app(data.clone()))
        .bind(&listen)
        .with_context(|| format!("cannot listen on {listen}"))?
        .run()
        .await
        .context("the server stopped with an error")
}
