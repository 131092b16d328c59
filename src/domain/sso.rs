//! Issuing SAML responses to registered services.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use chrono::Duration;
use serde::Serialize;

use crate::auth::extract::SignedIn;
use crate::db;
use crate::db::models::audit::{self, Event};
use crate::db::models::services::{self, Service};
use crate::db::models::{saml_state, users::User};
use crate::domain::attributes;
use crate::error::AppError;
use crate::saml::authn_context::{decide, Achieved, Decision};
use crate::saml::authn_request::RequestedAuthnContext;
use crate::saml::nameid::{persistent_id, NameIdFormat};
use crate::saml::response::{self, new_id};
use crate::saml::sp_metadata::AcsEndpoint;
use crate::saml::status;
use crate::state::AppState;
use crate::web::login::client_ip;
use crate::web::page::render;

/// Where and how to answer: every field comes from registered metadata or
/// the database, except InResponseTo and RelayState, which are echoed.
pub struct Target {
    pub service: Service,
    pub acs_url: String,
    pub in_response_to: Option<String>,
    pub relay_state: Option<String>,
    pub format: NameIdFormat,
    /// The SP's RequestedAuthnContext, if it sent one.
    pub requested: Option<RequestedAuthnContext>,
}

/// What the database says about this person and service, in one round
/// trip: whether the service is theirs, and whether they must give a
/// second factor before an assertion is issued (the service requires one,
/// the request asks for a class only a second factor meets, or the person
/// must use one: their own setting, a group, or everybody).
#[derive(Debug, Clone, Copy)]
pub struct Access {
    pub assigned: bool,
    pub needs_second_factor: bool,
}

pub async fn access(
    state: &AppState,
    who: &SignedIn,
    service: &Service,
    requested: Option<&RequestedAuthnContext>,
) -> Result<Access, AppError> {
    let known = who.session.mfa_at.is_some()
        || service.mfa_required
        || decide(requested, Achieved::Password) == Decision::StepUp;
    let (user, sid, has_factor) = (who.user.clone(), service.id, who.session.mfa_at.is_some());
    Ok(db::run(&state.pool, move |c| {
        let assigned = services::is_assigned(c, sid, user.id)?;
        let needs_second_factor = if known {
            !has_factor
        } else {
            crate::auth::mfa::required(c, &user)?
        };
        Ok(Access {
            assigned,
            needs_second_factor,
        })
    })
    .await?)
}

/// The NameID format to use: the service's, or one the request names that
/// the service's metadata also lists. `None` when the request asks for a
/// format we must refuse (InvalidNameIDPolicy).
pub fn resolve_format(service: &Service, requested: Option<&str>) -> Option<NameIdFormat> {
    let configured = NameIdFormat::parse(&service.nameid_format).unwrap_or(NameIdFormat::Email);
    let Some(req) = requested else {
        return Some(configured);
    };
    let fmt = NameIdFormat::from_uri(req)?;
    if fmt == NameIdFormat::Unspecified || fmt == configured {
        return Some(configured);
    }
    let listed = crate::saml::sp_metadata::SpMetadata::parse(&service.metadata_xml)
        .map(|m| m.name_id_formats.iter().any(|f| f == req))
        .unwrap_or(false);
    listed.then_some(fmt)
}

fn name_id_value(
    state: &AppState,
    u: &User,
    service: &Service,
    format: NameIdFormat,
) -> Result<String, AppError> {
    match format {
        NameIdFormat::Email if u.email.is_empty() => Err(AppError::saml(
            "SAML-016",
            "error.saml_no_nameid",
            409,
            format!(
                "user {} has no email address for {}",
                u.username, service.entity_id
            ),
        )),
        NameIdFormat::Email => Ok(u.email.clone()),
        NameIdFormat::Persistent => persistent_id(
            &state.persistent_secret,
            &service.entity_id,
            &u.id.to_string(),
        )
        .map_err(|e| AppError::Internal(e.to_string())),
        NameIdFormat::Transient => Ok(new_id()),
        NameIdFormat::Unspecified => Ok(u.username.clone()),
    }
}

/// A service with its ACS endpoints, by entity ID.
pub async fn load_service(
    state: &AppState,
    entity_id: String,
) -> Result<Option<(Service, Vec<AcsEndpoint>)>, AppError> {
    Ok(db::run(&state.pool, move |c| {
        let Some(s) = services::find_by_entity_id(c, &entity_id)? else {
            return Ok(None);
        };
        let eps = services::endpoints(c, s.id)?;
        Ok(Some((s, eps)))
    })
    .await?)
}

/// Answers for a signed-in person whose second factor (if one is due) is
/// done: RequestDenied when the service is not theirs, otherwise a signed
/// assertion.
pub async fn answer(
    state: &AppState,
    req: &HttpRequest,
    who: &SignedIn,
    target: Target,
    access: Access,
) -> Result<HttpResponse, AppError> {
    if !access.assigned {
        tracing::warn!(username = %who.user.username, sp = %target.service.entity_id, "SSO denied: not assigned");
        let f = Failure {
            top: status::RESPONDER,
            second: Some(status::REQUEST_DENIED),
            message: "not assigned to this service",
            subject: &who.user.username,
        };
        return failure(state, req, &target, f).await;
    }
    issue(state, req, who, target).await
}

/// Builds, signs and posts an assertion for an assigned, signed-in person.
pub async fn issue(
    state: &AppState,
    req: &HttpRequest,
    who: &SignedIn,
    target: Target,
) -> Result<HttpResponse, AppError> {
    let u = &who.user;
    let svc = &target.service;
    let class = match decide(target.requested.as_ref(), who.achieved()) {
        Decision::Answer(class) => class,
        Decision::StepUp | Decision::Refuse => {
            let f = Failure {
                top: status::RESPONDER,
                second: Some(status::NO_AUTHN_CONTEXT),
                message: "the requested authentication context cannot be satisfied",
                subject: &u.username,
            };
            return failure(state, req, &target, f).await;
        }
    };
    let name_id = name_id_value(state, u, svc, target.format)?;
    let now = state.now();
    let session_index = new_id();
    let releases = attributes::effective(&svc.attribute_release);
    let group_names = if attributes::needs_groups(&releases) {
        let uid = u.id;
        db::run(&state.pool, move |c| {
            crate::db::models::groups::names_of_user(c, uid)
        })
        .await?
    } else {
        Vec::new()
    };
    let attrs = attributes::build(u, &group_names, &releases);
    let xml = response::success(
        &response::Assertion {
            response_id: new_id(),
            assertion_id: new_id(),
            idp_entity_id: &state.entity_id,
            sp_entity_id: &svc.entity_id,
            acs_url: &target.acs_url,
            in_response_to: target.in_response_to.as_deref(),
            now,
            name_id: &name_id,
            name_id_format: target.format,
            session_index: &session_index,
            authn_instant: db::from_naive(who.session.mfa_at.unwrap_or(who.session.authn_instant)),
            session_not_on_or_after: now + Duration::minutes(i64::from(svc.session_minutes.max(1))),
            authn_context_class: class,
            attributes: &attrs,
            sign_assertion: svc.sign_assertion,
            sign_response: svc.sign_response,
        },
        &state.key,
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let (sess, service_id, idx, nid) = (
        who.session.id,
        svc.id,
        session_index.clone(),
        name_id.clone(),
    );
    let e = Event::new("sso", &u.username)
        .subject(&u.username)
        .service(&svc.entity_id)
        .ip(&client_ip(req))
        .detail(serde_json::json!({
            "acs": target.acs_url,
            "in_response_to": target.in_response_to,
            "name_id_format": target.format.key(),
            "authn_context": class,
        }));
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        saml_state::record_sign_in(c, sess, service_id, &idx, &nid, now)
    })
    .await?;
    tracing::info!(
        username = %u.username,
        sp = %svc.entity_id,
        acs = %target.acs_url,
        in_response_to = target.in_response_to.as_deref().unwrap_or("-"),
        "SSO response issued"
    );
    post_page(
        state,
        req,
        &target.acs_url,
        &xml,
        target.relay_state.as_deref(),
    )
}

/// The status of an error Response and whom it concerns (if known).
pub struct Failure<'a> {
    pub top: &'a str,
    pub second: Option<&'a str>,
    pub message: &'a str,
    pub subject: &'a str,
}

/// Posts a signed error Response (no assertion) to a registered ACS URL,
/// and records it in the audit log.
pub async fn failure(
    state: &AppState,
    req: &HttpRequest,
    target: &Target,
    f: Failure<'_>,
) -> Result<HttpResponse, AppError> {
    let now = state.now();
    let xml = response::failure(
        &response::Failure {
            idp_entity_id: &state.entity_id,
            acs_url: &target.acs_url,
            in_response_to: target.in_response_to.as_deref(),
            now,
            top: f.top,
            second: f.second,
            message: Some(f.message),
        },
        &state.key,
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let code = f.second.unwrap_or(f.top);
    tracing::warn!(sp = %target.service.entity_id, status = code, message = f.message, "SSO error response");
    let e = Event::new("sso.failure", f.subject)
        .subject(f.subject)
        .service(&target.service.entity_id)
        .ip(&client_ip(req))
        .detail(serde_json::json!({
            "status": code.rsplit(':').next().unwrap_or(code),
            "message": f.message,
            "in_response_to": target.in_response_to,
        }));
    db::run(&state.pool, move |c| audit::insert(c, &e, now)).await?;
    post_page(
        state,
        req,
        &target.acs_url,
        &xml,
        target.relay_state.as_deref(),
    )
}

#[derive(Serialize)]
struct PostPage<'a> {
    acs_url: &'a str,
    saml_response: String,
    relay_state: Option<&'a str>,
}

/// The auto-submitting form (static script, visible button without it).
fn post_page(
    state: &AppState,
    req: &HttpRequest,
    acs_url: &str,
    xml: &str,
    relay_state: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let data = PostPage {
        acs_url,
        saml_response: crate::saml::binding::encode_post(xml),
        relay_state,
    };
    let mut resp = render(
        state,
        req,
        StatusCode::OK,
        "saml/post",
        "saml.post_title",
        None,
        data,
    )?;
    let origin = url::Url::parse(acs_url)
        .map(|u| u.origin().ascii_serialization())
        .map_err(|e| AppError::Internal(format!("registered ACS URL is not a URL: {e}")))?;
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action {origin}; frame-ancestors 'none'; base-uri 'none'"
    );
    let value =
        header::HeaderValue::from_str(&csp).map_err(|e| AppError::Internal(e.to_string()))?;
    resp.headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, value);
    Ok(resp)
}
