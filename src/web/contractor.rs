//! 契約者 (the contractor): contract details, who is admin, end of use;
//! and the public 問い合わせ page.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::extract::{ContractorUser, MaybeSession, SignedIn};
use crate::db::models::audit;
use crate::db::models::contract::{self, Contract};
use crate::db::models::users::{self, Role};
use crate::db::{self};
use crate::domain::end_of_use;
use crate::domain::users::valid_email;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::admin::{check_csrf, event};
use crate::web::cookies;
use crate::web::page::{render, see_other, Nav};

/// What the contractor types to end the use of the service.
pub const TERMINATE_PHRASE: &str = "DELETE";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/contact", web::get().to(get_contact))
        .route("/contractor", web::get().to(get_index))
        .route("/contractor/contract", web::post().to(post_contract))
        .route("/contractor/admins", web::post().to(post_admins))
        .route("/contractor/export", web::get().to(get_export))
        .route("/contractor/terminate", web::post().to(post_terminate));
}

#[derive(Serialize)]
struct ContactPage {
    contract: Contract,
    any: bool,
}

pub async fn get_contact(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: MaybeSession,
) -> Result<HttpResponse, AppError> {
    let c = db::run(&state.pool, contract::load).await?;
    let any =
        !(c.contact_name.is_empty() && c.contact_email.is_empty() && c.contact_phone.is_empty());
    let nav = s.0.as_ref().map(|s| Nav::new(&s.user, "contact"));
    render(
        &state,
        &req,
        StatusCode::OK,
        "contractor/contact",
        "contact.title",
        nav,
        ContactPage { contract: c, any },
    )
}

#[derive(Serialize)]
struct AdminRow {
    username: String,
    display_name: String,
    role: String,
}

#[derive(Serialize, Default)]
struct Errors {
    contact_email: Option<&'static str>,
    too_long: Option<&'static str>,
}

#[derive(Serialize)]
struct IndexPage {
    contract: Contract,
    admins: Vec<AdminRow>,
    errors: Errors,
    phrase: &'static str,
    notice_key: Option<&'static str>,
    error_key: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct IndexQuery {
    notice: Option<String>,
    error: Option<String>,
}

async fn index(
    state: &AppState,
    req: &HttpRequest,
    who: &SignedIn,
    form: Option<(Contract, Errors)>,
    notice_key: Option<&'static str>,
    error_key: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let (stored, admins) = db::run(&state.pool, |c| {
        let admins = users::list_all(c)?
            .into_iter()
            .filter(|u| u.role() != Role::User)
            .map(|u| AdminRow {
                username: u.username,
                display_name: u.display_name,
                role: u.role,
            })
            .collect::<Vec<_>>();
        Ok((contract::load(c)?, admins))
    })
    .await?;
    let (contract, errors, status) = match form {
        Some((c, e)) => (c, e, StatusCode::UNPROCESSABLE_ENTITY),
        None => (stored, Errors::default(), StatusCode::OK),
    };
    let data = IndexPage {
        contract,
        admins,
        errors,
        phrase: TERMINATE_PHRASE,
        notice_key,
        error_key,
    };
    render(
        state,
        req,
        status,
        "contractor/index",
        "contractor.title",
        Some(Nav::new(&who.user, "contractor")),
        data,
    )
}

pub async fn get_index(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: ContractorUser,
    q: web::Query<IndexQuery>,
) -> Result<HttpResponse, AppError> {
    let notice = match q.notice.as_deref() {
        Some("saved") => Some("admin.saved"),
        Some("granted") => Some("contractor.granted"),
        Some("revoked") => Some("contractor.revoked"),
        _ => None,
    };
    let error = match q.error.as_deref() {
        Some("no_such_user") => Some("admin.no_such_user"),
        Some("self") => Some("admin.not_on_self"),
        Some("contractor") => Some("contractor.not_contractor"),
        Some("phrase") => Some("contractor.phrase_mismatch"),
        _ => None,
    };
    index(&state, &req, &who.0, None, notice, error).await
}

#[derive(Deserialize)]
pub struct ContractForm {
    csrf_token: String,
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    contact_note: String,
}

pub async fn post_contract(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: ContractorUser,
    form: web::Form<ContractForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    check_csrf(&req, &f.csrf_token)?;
    let c = Contract {
        company_name: f.company_name.trim().to_string(),
        contact_name: f.contact_name.trim().to_string(),
        contact_email: f.contact_email.trim().to_string(),
        contact_phone: f.contact_phone.trim().to_string(),
        contact_note: f.contact_note.trim().to_string(),
    };
    let errors = Errors {
        contact_email: (!c.contact_email.is_empty() && !valid_email(&c.contact_email))
            .then_some("admin.email_invalid"),
        too_long: ([&c.company_name, &c.contact_name, &c.contact_phone]
            .iter()
            .any(|v| v.chars().count() > 200)
            || c.contact_note.chars().count() > 2000)
            .then_some("contractor.too_long"),
    };
    if errors.contact_email.is_some() || errors.too_long.is_some() {
        return index(&state, &req, &who.0, Some((c, errors)), None, None).await;
    }
    let now = state.now();
    let e = event("contractor.contract", &who.0, &req, "");
    db::run(&state.pool, move |conn| {
        let before = contract::load(conn)?;
        audit::insert(
            conn,
            &e.detail(serde_json::json!({ "before": before, "after": c })),
            now,
        )?;
        contract::save(conn, &c)
    })
    .await?;
    Ok(see_other("/contractor?notice=saved"))
}

#[derive(Deserialize)]
pub struct AdminForm {
    csrf_token: String,
    username: String,
    op: String,
}

pub async fn post_admins(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: ContractorUser,
    form: web::Form<AdminForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let grant = match form.op.as_str() {
        "grant" => true,
        "revoke" => false,
        other => return Err(AppError::BadRequest(format!("unknown op {other}"))),
    };
    let username = form.username.trim().to_string();
    if username == who.0.user.username {
        return Ok(see_other("/contractor?error=self"));
    }
    let now = state.now();
    let kind = if grant {
        "contractor.grant_admin"
    } else {
        "contractor.revoke_admin"
    };
    let e = event(kind, &who.0, &req, "").subject(&username);
    let outcome = db::run(&state.pool, move |c| {
        let Some(u) = users::find_by_username(c, &username)? else {
            return Ok("error=no_such_user");
        };
        if u.role() == Role::Contractor {
            return Ok("error=contractor");
        }
        users::set_role(c, u.id, if grant { Role::Admin } else { Role::User })?;
        audit::insert(c, &e, now)?;
        Ok(if grant {
            "notice=granted"
        } else {
            "notice=revoked"
        })
    })
    .await?;
    Ok(see_other(&format!("/contractor?{outcome}")))
}

fn zip_response(body: Vec<u8>, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

pub async fn get_export(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: ContractorUser,
) -> Result<HttpResponse, AppError> {
    let now = state.now();
    let e = event("contractor.export", &who.0, &req, "");
    let body = db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        end_of_use::export_zip(c)
    })
    .await?;
    Ok(zip_response(body, "omakase-export.zip"))
}

#[derive(Deserialize)]
pub struct TerminateForm {
    csrf_token: String,
    confirm: String,
}

/// Records the confirmed end of use, exports everything (that record is
/// the last line of its audit log), deletes all data and hands the export
/// over.
pub async fn post_terminate(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: ContractorUser,
    form: web::Form<TerminateForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    if form.confirm.trim() != TERMINATE_PHRASE {
        return Ok(see_other("/contractor?error=phrase"));
    }
    let now = state.now();
    let e = event("contractor.terminate", &who.0, &req, "");
    let body = db::run(&state.pool, move |c| {
        db::write_tx(c, |c| {
            audit::insert(c, &e, now)?;
            let zip = end_of_use::export_zip(c)?;
            end_of_use::delete_all(c)?;
            Ok(zip)
        })
    })
    .await?;
    tracing::warn!(by = %who.0.user.username, "end of use: all data exported and deleted");
    let mut resp = zip_response(body, "omakase-final-export.zip");
    resp.add_cookie(&cookies::clear_session(state.settings.secure_cookies()))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(resp)
}
