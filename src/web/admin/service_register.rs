//! Admin: registering a service from uploaded or fetched metadata, with a
//! preview of what was understood and a diff when it updates one.

use actix_multipart::form::{tempfile::TempFile, text::Text, MultipartForm};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::extract::{AdminUser, SignedIn};
use crate::db::models::audit::{self, Event};
use crate::db::models::services::{self};
use crate::db::{self};
use crate::domain::service_view::{self, Change, Understood};
use crate::domain::services as svc;
use crate::error::AppError;
use crate::saml::sp_metadata::SpMetadata;
use crate::saml::SamlError;
use crate::state::AppState;
use crate::web::admin::check_csrf;
use crate::web::login::client_ip;
use crate::web::page::{render, see_other, Nav};

use super::services::date_fmt;

fn nav(a: &SignedIn) -> Option<Nav> {
    Some(Nav::new(&a.user, "admin"))
}

#[derive(Serialize, Default)]
struct NewPage {
    url: String,
    error_key: Option<&'static str>,
    error_detail: Option<String>,
}

pub async fn get_new(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    render(
        &state,
        &req,
        StatusCode::OK,
        "admin/services/new",
        "admin.services_new",
        nav(&admin.0),
        NewPage::default(),
    )
}

#[derive(MultipartForm)]
pub struct UploadForm {
    #[multipart(limit = "2MiB")]
    file: Option<TempFile>,
    url: Option<Text<String>>,
    csrf_token: Text<String>,
}

/// Why metadata is refused, in the admin's words.
fn refusal(e: &svc::ServiceError) -> &'static str {
    match e {
        svc::ServiceError::Metadata(SamlError::Doctype) => "admin.meta_doctype",
        svc::ServiceError::Metadata(SamlError::Xml(_)) => "admin.meta_not_xml",
        svc::ServiceError::Metadata(SamlError::Invalid("X509Certificate")) => "admin.meta_bad_cert",
        svc::ServiceError::Metadata(SamlError::Unexpected(m))
            if m.contains("AssertionConsumerService") =>
        {
            "admin.meta_no_acs"
        }
        svc::ServiceError::Metadata(SamlError::Unexpected(_)) => "admin.meta_not_sp",
        svc::ServiceError::Read(..) => "admin.meta_unreadable",
        svc::ServiceError::Expired(..) => "admin.meta_expired",
        _ => "admin.meta_invalid",
    }
}

fn new_with_error(
    state: &AppState,
    req: &HttpRequest,
    admin: &SignedIn,
    url: String,
    e: &svc::ServiceError,
) -> Result<HttpResponse, AppError> {
    let page = NewPage {
        url,
        error_key: Some(refusal(e)),
        error_detail: Some(e.to_string()),
    };
    render(
        state,
        req,
        StatusCode::UNPROCESSABLE_ENTITY,
        "admin/services/new",
        "admin.services_new",
        nav(admin),
        page,
    )
}

#[derive(Serialize)]
struct PreviewPage {
    understood: Understood,
    existing: Option<ExistingRef>,
    changes: Vec<Change>,
    metadata: String,
    metadata_url: String,
    name: String,
}

#[derive(Serialize)]
struct ExistingRef {
    id: i32,
    name: String,
}

pub async fn post_preview(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    MultipartForm(form): MultipartForm<UploadForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let url = form
        .url
        .map(|t| t.into_inner().trim().to_string())
        .unwrap_or_default();
    let file = form.file.filter(|f| f.size > 0);
    let read = match (file, url.is_empty()) {
        (Some(f), _) => std::fs::read(f.file.path())
            .map_err(|e| svc::ServiceError::Read("upload".into(), e.to_string()))
            .and_then(|b| {
                String::from_utf8(b)
                    .map_err(|_| svc::ServiceError::Read("upload".into(), "not UTF-8".into()))
            })
            .map(|x| (x, None)),
        (None, false) if url.starts_with("https://") || url.starts_with("http://") => {
            let u = url.clone();
            web::block(move || svc::read_source(&u))
                .await
                .map_err(|_| AppError::Internal("metadata fetch cancelled".into()))?
        }
        (None, false) => Err(svc::ServiceError::Read(
            url.clone(),
            "only http and https URLs".into(),
        )),
        (None, true) => Err(svc::ServiceError::Read(
            "-".into(),
            "no file and no URL".into(),
        )),
    };
    let (xml, from_url) = match read {
        Ok(r) => r,
        Err(e) => return new_with_error(&state, &req, &admin.0, url, &e),
    };
    let m = match SpMetadata::parse(&xml) {
        Ok(m) => m,
        Err(e) => {
            return new_with_error(&state, &req, &admin.0, url, &svc::ServiceError::Metadata(e))
        }
    };
    if let Err(e) = svc::check_valid_until(&m, state.now()) {
        return new_with_error(&state, &req, &admin.0, url, &e);
    }
    let entity = m.entity_id.clone();
    let existing = db::run(&state.pool, move |c| {
        services::find_by_entity_id(c, &entity)
    })
    .await?;
    let changes = existing
        .as_ref()
        .and_then(|s| SpMetadata::parse(&s.metadata_xml).ok())
        .map(|old| service_view::diff(&old, &m))
        .unwrap_or_default();
    let fmt = date_fmt(&state);
    let understood = service_view::understood(&m, state.now(), &fmt);
    let name = existing
        .as_ref()
        .map(|s| s.display_name.clone())
        .or_else(|| m.display_name.clone())
        .unwrap_or_default();
    let page = PreviewPage {
        understood,
        existing: existing.map(|s| ExistingRef {
            id: s.id,
            name: s.display_name,
        }),
        changes,
        metadata: xml,
        metadata_url: from_url.unwrap_or_default(),
        name,
    };
    render(
        &state,
        &req,
        StatusCode::OK,
        "admin/services/preview",
        "admin.services_preview",
        nav(&admin.0),
        page,
    )
}

#[derive(Deserialize)]
pub struct SaveForm {
    csrf_token: String,
    metadata: String,
    #[serde(default)]
    metadata_url: String,
    #[serde(default)]
    name: String,
}

pub async fn post_save(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    form: web::Form<SaveForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    check_csrf(&req, &form.csrf_token)?;
    let now = state.now();
    let minutes = i32::try_from(state.settings.service_session_minutes).unwrap_or(480);
    let url = Some(form.metadata_url.trim().to_string()).filter(|u| !u.is_empty());
    let name = form.name.trim().chars().take(100).collect::<String>();
    let actor = admin.0.user.username.clone();
    let ip = client_ip(&req);
    let result = db::run(&state.pool, move |c| {
        let old = SpMetadata::parse(&form.metadata).ok().and_then(|m| {
            services::find_by_entity_id(c, &m.entity_id)
                .ok()
                .flatten()
                .and_then(|s| SpMetadata::parse(&s.metadata_xml).ok())
        });
        let registered = svc::register(c, &form.metadata, url, Some(&name), None, minutes, now);
        let r = match registered {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let changes = old
            .map(|o| service_view::diff(&o, &r.metadata))
            .unwrap_or_default();
        let kind = if r.created {
            "admin.service.create"
        } else {
            "admin.service.update"
        };
        let lines: Vec<String> = changes
            .iter()
            .map(|c| format!("{} {}", c.sign, c.what))
            .collect();
        let e = Event::new(kind, &actor)
            .service(&r.entity_id)
            .ip(&ip)
            .detail(serde_json::json!({ "name": name, "changes": lines }));
        audit::insert(c, &e, now)?;
        let id = services::find_by_entity_id(c, &r.entity_id)?.map(|s| s.id);
        Ok(Ok(id))
    })
    .await?;
    match result {
        Ok(Some(id)) => Ok(see_other(&format!("/admin/services/{id}?saved=1"))),
        Ok(None) => Err(AppError::NotFound),
        Err(e) => new_with_error(&state, &req, &admin.0, String::new(), &e),
    }
}
