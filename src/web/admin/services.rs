//! Admin: services registered from metadata (upload or URL), their
//! settings, who may use them, and their recent sign-ins.

use actix_multipart::form::{tempfile::TempFile, text::Text, MultipartForm};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::extract::{AdminUser, SignedIn};
use crate::db::models::audit::{self, Event, Filter};
use crate::db::models::services::{self, Service, SettingsChange};
use crate::db::models::users;
use crate::db::{self, to_naive};
use crate::domain::attributes::{self, Release};
use crate::domain::service_view::{self, Change, Understood};
use crate::domain::services as svc;
use crate::error::AppError;
use crate::saml::nameid::NameIdFormat;
use crate::saml::sp_metadata::SpMetadata;
use crate::saml::SamlError;
use crate::state::AppState;
use crate::web::admin::{check_csrf, event};
use crate::web::login::client_ip;
use crate::web::page::{render, see_other, Nav};

fn nav(a: &SignedIn) -> Option<Nav> {
    Some(Nav::new(&a.user, "admin"))
}

#[derive(Serialize)]
struct Row {
    id: i32,
    name: String,
    entity_id: String,
    enabled: bool,
    nameid_format: String,
    users: i64,
}

#[derive(Serialize)]
struct ListPage {
    rows: Vec<Row>,
    deleted: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    deleted: Option<String>,
}

pub async fn get_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let rows = db::run(&state.pool, |c| {
        let list = services::list(c)?;
        let mut rows = Vec::with_capacity(list.len());
        for s in list {
            rows.push(Row {
                users: services::count_assigned(c, s.id)?,
                id: s.id,
                name: s.display_name,
                entity_id: s.entity_id,
                enabled: s.enabled,
                nameid_format: s.nameid_format,
            });
        }
        Ok(rows)
    })
    .await?;
    let page = ListPage {
        rows,
        deleted: q.deleted.is_some(),
    };
    render(
        &state,
        &req,
        StatusCode::OK,
        "admin/services/list",
        "admin.services",
        nav(&admin.0),
        page,
    )
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

fn date_fmt(state: &AppState) -> impl Fn(chrono::DateTime<chrono::Utc>) -> String + '_ {
    move |t| state.format_time(t.naive_utc())
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

#[derive(Serialize, Default)]
struct SettingsErrors {
    display_name: Option<&'static str>,
    description: Option<&'static str>,
    default_relay_state: Option<&'static str>,
    session_minutes: Option<&'static str>,
    signing: Option<&'static str>,
    any: bool,
}

#[derive(Serialize)]
struct SignIn {
    at: String,
    user: String,
}

#[derive(Serialize)]
struct FormatOption {
    key: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct FormatChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct AttrRow {
    source: &'static str,
    released: bool,
    name: String,
    friendly_name: String,
    formats: Vec<FormatChoice>,
}

fn attr_rows(stored: &str) -> Vec<AttrRow> {
    let current = attributes::effective(stored);
    attributes::SOURCES
        .iter()
        .map(|(source, name, friendly, _)| {
            let r = current.iter().find(|r| r.source == *source);
            let format = r
                .map(|r| r.name_format.as_str())
                .unwrap_or(attributes::NAME_FORMATS[0]);
            AttrRow {
                source,
                released: r.is_some(),
                name: r
                    .map(|r| r.name.clone())
                    .unwrap_or_else(|| name.to_string()),
                friendly_name: r
                    .map(|r| r.friendly_name.clone())
                    .unwrap_or_else(|| friendly.to_string()),
                formats: attributes::NAME_FORMATS
                    .iter()
                    .map(|f| FormatChoice {
                        value: f,
                        label: f.rsplit(':').next().unwrap_or(f),
                        selected: *f == format,
                    })
                    .collect(),
            }
        })
        .collect()
}

#[derive(Serialize)]
struct RefreshView {
    refreshed_at: Option<String>,
    next_refresh_at: Option<String>,
    error: String,
}

#[derive(Serialize)]
struct ShowPage {
    id: i32,
    entity_id: String,
    metadata_url: Option<String>,
    refresh: RefreshView,
    icon: Option<String>,
    groups: Vec<String>,
    attributes: Vec<AttrRow>,
    understood: Option<Understood>,
    settings: SettingsChange,
    session_minutes: String,
    formats: Vec<FormatOption>,
    errors: SettingsErrors,
    users: Vec<String>,
    sign_ins: Vec<SignIn>,
    notice_key: Option<&'static str>,
    error_key: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    saved: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

async fn load(state: &AppState, id: i32) -> Result<Service, AppError> {
    db::run(&state.pool, move |c| services::find(c, id))
        .await?
        .ok_or(AppError::NotFound)
}

#[allow(clippy::too_many_arguments)]
async fn show(
    state: &AppState,
    req: &HttpRequest,
    admin: &SignedIn,
    s: Service,
    settings: SettingsChange,
    session_minutes: String,
    errors: SettingsErrors,
    notice_key: Option<&'static str>,
    error_key: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let (sid, entity) = (s.id, s.entity_id.clone());
    let (users, events, group_names) = db::run(&state.pool, move |c| {
        let users = services::assigned_usernames(c, sid)?;
        let group_names = crate::db::models::groups::names_of_service(c, sid)?;
        let filter = Filter {
            service: entity,
            kind: "sso".into(),
            ..Filter::default()
        };
        let events = audit::list(c, &filter, 0, 20)?;
        Ok((users, events, group_names))
    })
    .await?;
    let fmt = date_fmt(state);
    let understood = SpMetadata::parse(&s.metadata_xml)
        .ok()
        .map(|m| service_view::understood(&m, state.now(), &fmt));
    let status = if errors.any {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ShowPage {
        id: s.id,
        entity_id: s.entity_id,
        metadata_url: s.metadata_url,
        refresh: RefreshView {
            refreshed_at: s.refreshed_at.map(|t| state.format_time(t)),
            next_refresh_at: s.next_refresh_at.map(|t| state.format_time(t)),
            error: s.refresh_error,
        },
        groups: group_names,
        icon: (!s.icon_type.is_empty())
            .then(|| format!("/icons/{}?v={}", s.id, s.updated_at.and_utc().timestamp())),
        attributes: attr_rows(&s.attribute_release),
        understood,
        formats: NameIdFormat::ALL
            .iter()
            .map(|f| FormatOption {
                key: f.key(),
                selected: f.key() == settings.nameid_format,
            })
            .collect(),
        settings,
        session_minutes,
        errors,
        users,
        sign_ins: events
            .into_iter()
            .filter(|e| e.kind == "sso")
            .map(|e| SignIn {
                at: state.format_time(e.at),
                user: e.subject,
            })
            .collect(),
        notice_key,
        error_key,
    };
    render(
        state,
        req,
        status,
        "admin/services/show",
        "admin.services",
        nav(admin),
        page,
    )
}

pub async fn get_show(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse, AppError> {
    let s = load(&state, path.into_inner()).await?;
    let notice = match (q.saved.is_some(), q.notice.as_deref()) {
        (true, _) => Some("admin.saved"),
        (_, Some("assigned")) => Some("admin.assigned"),
        (_, Some("unassigned")) => Some("admin.unassigned"),
        (_, Some("refreshed")) => Some("admin.refreshed"),
        _ => None,
    };
    let error = match q.error.as_deref() {
        Some("no_such_user") => Some("admin.no_such_user"),
        Some("refresh") => Some("admin.refresh_failed"),
        Some("attr_unknown_source") => Some("admin.attr_unknown_source"),
        Some("attr_name_invalid") => Some("admin.attr_name_invalid"),
        Some("attr_format_invalid") => Some("admin.attr_format_invalid"),
        Some("attr_duplicate") => Some("admin.attr_duplicate"),
        Some("icon") => Some("admin.icon_invalid"),
        _ => None,
    };
    let settings = SettingsChange::of(&s);
    let minutes = settings.session_minutes.to_string();
    show(
        &state,
        &req,
        &admin.0,
        s,
        settings,
        minutes,
        SettingsErrors::default(),
        notice,
        error,
    )
    .await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    csrf_token: String,
    display_name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    default_relay_state: String,
    nameid_format: String,
    session_minutes: String,
    sign_response: Option<String>,
    sign_assertion: Option<String>,
    enabled: Option<String>,
}

pub async fn post_settings(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    check_csrf(&req, &f.csrf_token)?;
    let s = load(&state, path.into_inner()).await?;
    let minutes = f
        .session_minutes
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|m| (1..=10_080).contains(m));
    let change = SettingsChange {
        display_name: f.display_name.trim().to_string(),
        description: f.description.trim().to_string(),
        default_relay_state: f.default_relay_state.trim().to_string(),
        nameid_format: NameIdFormat::parse(&f.nameid_format)
            .map(|n| n.key().to_string())
            .unwrap_or_else(|| s.nameid_format.clone()),
        sign_response: f.sign_response.is_some(),
        sign_assertion: f.sign_assertion.is_some(),
        session_minutes: minutes.unwrap_or(s.session_minutes),
        enabled: f.enabled.is_some(),
        updated_at: to_naive(state.now()),
    };
    let mut errors = SettingsErrors {
        display_name: match change.display_name.chars().count() {
            0 => Some("admin.name_required"),
            n if n > 100 => Some("profile.too_long"),
            _ => None,
        },
        description: (change.description.chars().count() > 500).then_some("admin.too_long_500"),
        default_relay_state: (change.default_relay_state.len() > 1024)
            .then_some("admin.too_long_1024"),
        session_minutes: minutes.is_none().then_some("admin.minutes_range"),
        signing: (!change.sign_response && !change.sign_assertion)
            .then_some("admin.signing_required"),
        any: false,
    };
    errors.any = errors.display_name.is_some()
        || errors.description.is_some()
        || errors.default_relay_state.is_some()
        || errors.session_minutes.is_some()
        || errors.signing.is_some();
    if errors.any {
        let typed = f.session_minutes.clone();
        return show(&state, &req, &admin.0, s, change, typed, errors, None, None).await;
    }
    let before = SettingsChange::of(&s);
    let e = event("admin.service.settings", &admin.0, &req, &s.entity_id)
        .detail(serde_json::json!({ "before": before, "after": change }));
    let (id, now) = (s.id, state.now());
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        services::update_settings(c, id, &change)
    })
    .await?;
    Ok(see_other(&format!("/admin/services/{id}?saved=1")))
}

#[derive(Deserialize)]
pub struct UserForm {
    csrf_token: String,
    username: String,
}

pub async fn post_assign(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<UserForm>,
) -> Result<HttpResponse, AppError> {
    change_assignment(
        state,
        req,
        admin,
        path.into_inner(),
        form.into_inner(),
        true,
    )
    .await
}

pub async fn post_unassign(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<UserForm>,
) -> Result<HttpResponse, AppError> {
    change_assignment(
        state,
        req,
        admin,
        path.into_inner(),
        form.into_inner(),
        false,
    )
    .await
}

async fn change_assignment(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    id: i32,
    form: UserForm,
    assign: bool,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let s = load(&state, id).await?;
    let username = form.username.trim().to_string();
    let kind = if assign {
        "admin.service.assign"
    } else {
        "admin.service.unassign"
    };
    let e = event(kind, &admin.0, &req, &s.entity_id).subject(&username);
    let now = state.now();
    let found = db::run(&state.pool, move |c| {
        let Some(u) = users::find_by_username(c, &username)? else {
            return Ok(false);
        };
        if assign {
            services::assign(c, id, u.id, to_naive(now))?;
        } else {
            services::unassign(c, id, u.id)?;
        }
        audit::insert(c, &e, now)?;
        Ok(true)
    })
    .await?;
    Ok(see_other(&match (found, assign) {
        (false, _) => format!("/admin/services/{id}?error=no_such_user"),
        (true, true) => format!("/admin/services/{id}?notice=assigned"),
        (true, false) => format!("/admin/services/{id}?notice=unassigned"),
    }))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    csrf_token: String,
    confirm: String,
}

pub async fn post_delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let s = load(&state, path.into_inner()).await?;
    if form.confirm.trim() != s.entity_id {
        let settings = SettingsChange::of(&s);
        let minutes = settings.session_minutes.to_string();
        let errors = SettingsErrors::default();
        return show(
            &state,
            &req,
            &admin.0,
            s,
            settings,
            minutes,
            errors,
            None,
            Some("admin.delete_confirm_mismatch"),
        )
        .await;
    }
    let e = event("admin.service.delete", &admin.0, &req, &s.entity_id)
        .detail(serde_json::json!({ "name": s.display_name }));
    let (id, now) = (s.id, state.now());
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        services::delete(c, id)
    })
    .await?;
    Ok(see_other("/admin/services?deleted=1"))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

/// Fetches the metadata again from its URL now.
pub async fn post_refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let s = load(&state, path.into_inner()).await?;
    let id = s.id;
    let (pool, now, actor) = (
        state.pool.clone(),
        state.now(),
        admin.0.user.username.clone(),
    );
    let ok = web::block(move || -> Result<bool, db::DbError> {
        let mut conn = pool.get()?;
        Ok(crate::domain::refresh::refresh(&mut conn, &s, &actor, now).is_ok())
    })
    .await
    .map_err(|_| AppError::Internal("refresh cancelled".into()))??;
    Ok(see_other(&if ok {
        format!("/admin/services/{id}?notice=refreshed")
    } else {
        format!("/admin/services/{id}?error=refresh")
    }))
}

/// Which attributes the service receives, under which names and NameFormat.
pub async fn post_attributes(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    check_csrf(&req, f.get("csrf_token").map(String::as_str).unwrap_or(""))?;
    let s = load(&state, path.into_inner()).await?;
    let id = s.id;
    let field = |k: String| f.get(&k).map(|v| v.trim().to_string()).unwrap_or_default();
    let releases: Vec<Release> = attributes::SOURCES
        .iter()
        .filter(|(source, ..)| f.contains_key(&format!("release_{source}")))
        .map(|(source, ..)| Release {
            source: source.to_string(),
            name: field(format!("name_{source}")),
            friendly_name: field(format!("friendly_{source}")),
            name_format: field(format!("format_{source}")),
        })
        .collect();
    if let Err(key) = attributes::validate(&releases) {
        let code = key.trim_start_matches("admin.");
        return Ok(see_other(&format!("/admin/services/{id}?error={code}")));
    }
    let json = serde_json::to_string(&releases).map_err(|e| AppError::Internal(e.to_string()))?;
    let before = attributes::effective(&s.attribute_release);
    let e = event("admin.service.attributes", &admin.0, &req, &s.entity_id)
        .detail(serde_json::json!({ "before": before, "after": releases }));
    let now = state.now();
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        services::set_attribute_release(c, id, &json)
    })
    .await?;
    Ok(see_other(&format!("/admin/services/{id}?saved=1")))
}

#[derive(MultipartForm)]
pub struct IconForm {
    #[multipart(limit = "512KiB")]
    file: Option<TempFile>,
    remove: Option<Text<String>>,
    csrf_token: Text<String>,
}

/// Uploads (or removes) the service's icon.
pub async fn post_icon(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    MultipartForm(form): MultipartForm<IconForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let s = load(&state, path.into_inner()).await?;
    let id = s.id;
    let icon = if form.remove.is_some() {
        None
    } else {
        let Some(f) = form.file.filter(|f| f.size > 0) else {
            return Ok(see_other(&format!("/admin/services/{id}?error=icon")));
        };
        let bytes = std::fs::read(f.file.path()).map_err(|e| AppError::Internal(e.to_string()))?;
        match crate::domain::icons::sniff(&bytes) {
            Some(t) if bytes.len() <= crate::domain::icons::MAX_ICON => Some((t, bytes)),
            _ => return Ok(see_other(&format!("/admin/services/{id}?error=icon"))),
        }
    };
    let e = event("admin.service.icon", &admin.0, &req, &s.entity_id)
        .detail(serde_json::json!({ "icon": icon.as_ref().map(|(t, b)| format!("{t}, {} bytes", b.len())) }));
    let now = state.now();
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        services::set_icon(
            c,
            id,
            icon.as_ref().map(|(t, b)| (*t, b.as_slice())),
            to_naive(now),
        )
    })
    .await?;
    Ok(see_other(&format!("/admin/services/{id}?saved=1")))
}
