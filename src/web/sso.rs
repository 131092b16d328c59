//! SAML endpoints: SP-initiated SSO (Redirect and POST), the resume step
//! after a login, and IdP-initiated SSO from the tiles.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde::Deserialize;

use crate::auth::extract::{return_path, unfinished, CurrentUser, MaybeSession};
use crate::auth::token;
use crate::db::models::services::Service;
use crate::db::models::{saml_state, services};
use crate::db::{self, to_naive};
use crate::domain::sso::{self as issue, access, load_service, resolve_format, Failure, Target};
use crate::error::AppError;
use crate::saml::authn_context::{self, decide, Achieved, Decision};
use crate::saml::authn_request::AuthnRequest;
use crate::saml::binding;
use crate::saml::nameid::NameIdFormat;
use crate::saml::redirect_sig::SignedQuery;
use crate::saml::sp_metadata::{select_acs, AcsEndpoint};
use crate::saml::{status, BINDING_POST};
use crate::state::AppState;
use crate::web::page::{see_other, url_encode};

/// Longest RelayState we echo (the spec asks SPs for at most 80 bytes).
const MAX_RELAY_STATE: usize = 1024;
/// How long a request may wait for the person to log in.
const PENDING_LIFETIME: Duration = Duration::minutes(30);
/// Oldest IssueInstant we accept, before clock skew.
const MAX_REQUEST_AGE: Duration = Duration::minutes(10);

#[derive(Deserialize)]
pub struct SsoParams {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

enum Received<'a> {
    Redirect(SignedQuery<'a>),
    Post,
}

pub async fn get_sso(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: MaybeSession,
) -> Result<HttpResponse, AppError> {
    let raw = req.query_string().to_string();
    let params: SsoParams = serde_urlencoded::from_str(&raw)
        .map_err(|e| AppError::BadRequest(format!("query string: {e}")))?;
    let encoded = params.saml_request.ok_or_else(missing_request)?;
    let xml = binding::decode_redirect(&encoded).map_err(AppError::from_saml)?;
    let signed = SignedQuery::from_raw(&raw);
    handle(
        &state,
        &req,
        session,
        &xml,
        params.relay_state,
        Received::Redirect(signed),
    )
    .await
}

pub async fn post_sso(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: MaybeSession,
    form: web::Form<SsoParams>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let encoded = form.saml_request.ok_or_else(missing_request)?;
    let xml = binding::decode_post(&encoded).map_err(AppError::from_saml)?;
    handle(
        &state,
        &req,
        session,
        &xml,
        form.relay_state,
        Received::Post,
    )
    .await
}

/// Refuses a RelayState longer than we are willing to echo.
fn check_relay_state(relay_state: Option<&str>) -> Result<(), AppError> {
    match relay_state {
        Some(r) if r.len() > MAX_RELAY_STATE => Err(AppError::saml(
            "SAML-014",
            "error.saml_relay_state",
            400,
            "RelayState too long",
        )),
        _ => Ok(()),
    }
}

/// Refuses a service that is switched off.
fn check_enabled(service: &Service) -> Result<(), AppError> {
    if service.enabled {
        return Ok(());
    }
    Err(AppError::saml(
        "SAML-011",
        "error.saml_disabled",
        403,
        format!("service {} is disabled", service.entity_id),
    ))
}

/// A registered, enabled service and its endpoints; `unknown_status` is
/// the HTTP status of the page when the entity ID is not registered.
async fn enabled_service(
    state: &AppState,
    entity_id: &str,
    unknown_status: u16,
) -> Result<(Service, Vec<AcsEndpoint>), AppError> {
    let Some((service, endpoints)) = load_service(state, entity_id.to_string()).await? else {
        return Err(AppError::saml(
            "SAML-005",
            "error.saml_unknown_sp",
            unknown_status,
            format!("unregistered service {entity_id}"),
        ));
    };
    check_enabled(&service)?;
    Ok((service, endpoints))
}

fn missing_request() -> AppError {
    AppError::saml(
        "SAML-013",
        "error.saml_missing",
        400,
        "no SAMLRequest parameter",
    )
}

async fn handle(
    state: &AppState,
    req: &HttpRequest,
    session: MaybeSession,
    xml: &str,
    relay_state: Option<String>,
    received: Received<'_>,
) -> Result<HttpResponse, AppError> {
    let request = AuthnRequest::parse(xml).map_err(AppError::from_saml)?;
    check_relay_state(relay_state.as_deref())?;
    let (service, endpoints) = enabled_service(state, &request.issuer, 400).await?;
    if let Some(b) = request
        .protocol_binding
        .as_deref()
        .filter(|b| *b != BINDING_POST)
    {
        return Err(AppError::saml(
            "SAML-017",
            "error.saml_binding",
            400,
            format!("unsupported ProtocolBinding {b}"),
        ));
    }
    let Some(acs) = select_acs(&endpoints, request.acs_url.as_deref(), request.acs_index) else {
        return Err(AppError::saml(
            "SAML-006",
            "error.saml_unknown_acs",
            400,
            format!(
                "{} asked for ACS {:?} / index {:?}, not in its metadata",
                service.entity_id, request.acs_url, request.acs_index
            ),
        ));
    };
    let verified = match &received {
        Received::Redirect(q) if q.is_signed() => {
            q.verify(&service.signing_cert_list())
                .map_err(AppError::from_saml)?;
            true
        }
        _ => false,
    };
    if service.authn_requests_signed && !verified {
        return Err(AppError::saml(
            "SAML-010",
            "error.saml_signature",
            400,
            format!(
                "{} must sign its requests (HTTP-Redirect binding)",
                service.entity_id
            ),
        ));
    }
    if let Some(d) = request
        .destination
        .as_deref()
        .filter(|d| *d != state.sso_url)
    {
        return Err(AppError::saml(
            "SAML-009",
            "error.saml_destination",
            400,
            format!("Destination {d}"),
        ));
    }
    let now = state.now();
    let skew = state.clock_skew();
    request
        .check_time(now, skew, MAX_REQUEST_AGE)
        .map_err(|_| {
            AppError::saml(
                "SAML-008",
                "error.saml_time",
                400,
                format!("IssueInstant {}", request.issue_instant),
            )
        })?;
    let keep_until = request.issue_instant + MAX_REQUEST_AGE + skew + skew;
    let (issuer, rid) = (request.issuer.clone(), request.id.clone());
    let fresh = db::run(&state.pool, move |c| {
        saml_state::claim_request_id(c, &issuer, &rid, keep_until, now)
    })
    .await?;
    if !fresh {
        return Err(AppError::saml(
            "SAML-007",
            "error.saml_replay",
            400,
            format!("replayed request ID {}", request.id),
        ));
    }
    let requested_format = request
        .name_id_policy
        .as_ref()
        .and_then(|p| p.format.as_deref());
    let format = resolve_format(&service, requested_format);
    let mut target = Target {
        acs_url: acs.location.clone(),
        service,
        in_response_to: Some(request.id.clone()),
        relay_state,
        format: format.unwrap_or(NameIdFormat::Email),
        requested: request.requested_authn_context.clone(),
    };
    if format.is_none() {
        let msg = "the requested NameID format is not offered to this service";
        return issue::failure(
            state,
            req,
            &target,
            Failure {
                top: status::REQUESTER,
                second: Some(status::INVALID_NAMEID_POLICY),
                message: msg,
                subject: "",
            },
        )
        .await;
    }
    if decide(target.requested.as_ref(), Achieved::Password) == Decision::Refuse {
        let msg = "the requested authentication context cannot be satisfied";
        return issue::failure(
            state,
            req,
            &target,
            Failure {
                top: status::RESPONDER,
                second: Some(status::NO_AUTHN_CONTEXT),
                message: msg,
                subject: "",
            },
        )
        .await;
    }
    let usable = session
        .0
        .filter(|who| !request.force_authn && who.is_complete() && !who.user.must_change_password);
    if let Some(who) = &usable {
        let a = access(state, who, &target.service, target.requested.as_ref()).await?;
        if !a.needs_second_factor || !a.assigned {
            return issue::answer(state, req, who, target, a).await;
        }
    }
    if request.is_passive && (usable.is_some() || matches!(received, Received::Redirect(_))) {
        // Passive: no login page and no second factor may be shown. (A
        // cross-site POST carries no session cookie: it is parked below
        // and the resume step sees the session.)
        let message = if usable.is_some() {
            "second factor needed"
        } else {
            "login needed"
        };
        return issue::failure(
            state,
            req,
            &target,
            Failure {
                top: status::RESPONDER,
                second: Some(status::NO_PASSIVE),
                message,
                subject: "",
            },
        )
        .await;
    }
    // Park the request in the database and continue with a GET (which also
    // brings the SameSite=Lax session cookie after a cross-site POST).
    let t = token::new_token();
    let pending = saml_state::Pending {
        token_hash: token::hash(&t),
        service_id: target.service.id,
        request_id: request.id.clone(),
        acs_url: std::mem::take(&mut target.acs_url),
        relay_state: target.relay_state.take(),
        force_authn: request.force_authn,
        is_passive: request.is_passive,
        name_id_format: target.format.key().to_string(),
        created_at: to_naive(now),
        expires_at: to_naive(now + PENDING_LIFETIME),
        requested_context: authn_context::to_stored(target.requested.as_ref()),
    };
    db::run(&state.pool, move |c| {
        saml_state::insert_pending(c, &pending, now)
    })
    .await?;
    Ok(see_other(&format!("/saml/resume?t={}", url_encode(&t))))
}

#[derive(Deserialize)]
pub struct ResumeQuery {
    t: String,
}

pub async fn get_resume(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ResumeQuery>,
    session: MaybeSession,
) -> Result<HttpResponse, AppError> {
    let th = token::hash(&q.t);
    let now = state.now();
    let th2 = th.clone();
    let expired = || {
        AppError::saml(
            "SAML-015",
            "error.saml_pending",
            400,
            "unknown or expired pending request",
        )
    };
    let pending = db::run(&state.pool, move |c| saml_state::find_pending(c, &th2, now))
        .await?
        .ok_or_else(expired)?;
    let here = format!("/saml/resume?t={}", url_encode(&q.t));
    let stale = |who: &crate::auth::extract::SignedIn| {
        pending.force_authn && who.session.authn_instant < pending.created_at
    };
    let passive = pending.is_passive;
    let who = match session.0 {
        None if passive => None,
        None => return Ok(see_other(&format!("/login?next={}", url_encode(&here)))),
        Some(who) if stale(&who) => {
            if passive {
                None
            } else {
                return Ok(see_other(&format!(
                    "/login?reauth=1&next={}",
                    url_encode(&here)
                )));
            }
        }
        Some(who) => match unfinished(&who, &here) {
            Some(_) if passive => None,
            Some(redirect) => return Err(redirect),
            None => Some(who),
        },
    };
    let sid = pending.service_id;
    let service = db::run(&state.pool, move |c| services::find(c, sid))
        .await?
        .ok_or_else(expired)?;
    check_enabled(&service)?;
    let requested = authn_context::from_stored(&pending.requested_context);
    let mut granted = None;
    if let Some(w) = &who {
        let a = access(&state, w, &service, requested.as_ref()).await?;
        if a.needs_second_factor && a.assigned {
            if !passive {
                return Err(AppError::SecondFactorRequired(here));
            }
        } else {
            granted = Some(a);
        }
    }
    let taken = db::run(&state.pool, move |c| saml_state::take_pending(c, &th, now))
        .await?
        .ok_or_else(expired)?;
    let target = Target {
        format: NameIdFormat::parse(&taken.name_id_format).unwrap_or(NameIdFormat::Email),
        service,
        acs_url: taken.acs_url,
        in_response_to: Some(taken.request_id),
        relay_state: taken.relay_state,
        requested,
    };
    match who.zip(granted) {
        Some((who, a)) => issue::answer(&state, &req, &who, target, a).await,
        None => {
            issue::failure(
                &state,
                &req,
                &target,
                Failure {
                    top: status::RESPONDER,
                    second: Some(status::NO_PASSIVE),
                    message: "login needed",
                    subject: "",
                },
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct IdpInitQuery {
    sp: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

pub async fn get_idp_init(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<IdpInitQuery>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let entity_id = q.sp.filter(|s| !s.is_empty()).ok_or_else(|| {
        AppError::saml(
            "SAML-005",
            "error.saml_unknown_sp",
            400,
            "idp-init without sp",
        )
    })?;
    check_relay_state(q.relay_state.as_deref())?;
    let (service, endpoints) = enabled_service(&state, &entity_id, 404).await?;
    let a = access(&state, &user.0, &service, None).await?;
    if !a.assigned {
        return Err(AppError::saml(
            "SAML-012",
            "error.saml_not_assigned",
            403,
            format!("{} is not assigned to {entity_id}", user.0.user.username),
        ));
    }
    let acs = select_acs(&endpoints, None, None).ok_or_else(|| {
        AppError::saml(
            "SAML-006",
            "error.saml_unknown_acs",
            400,
            "no usable ACS endpoint",
        )
    })?;
    let relay_state = q
        .relay_state
        .filter(|r| !r.is_empty())
        .or_else(|| Some(service.default_relay_state.clone()).filter(|r| !r.is_empty()));
    if a.needs_second_factor {
        return Err(AppError::SecondFactorRequired(return_path(&req)));
    }
    let target = Target {
        acs_url: acs.location.clone(),
        format: NameIdFormat::parse(&service.nameid_format).unwrap_or(NameIdFormat::Email),
        service,
        in_response_to: None,
        relay_state,
        requested: None,
    };
    issue::issue(&state, &req, &user.0, target).await
}
