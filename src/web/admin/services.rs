//! Admin: services registered from metadata (upload or URL), their
//! settings, who may use them, and their recent sign-ins.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::extract::{AdminUser, SignedIn};
use crate::db::models::audit::{self, Filter};
use crate::db::models::services::{self, Service, SettingsChange};
use crate::db::models::users;
use crate::db::{self, to_naive};
use crate::domain::attributes::{self};
use crate::domain::service_view::{self, Understood};
use crate::error::AppError;
use crate::saml::nameid::NameIdFormat;
use crate::saml::sp_metadata::SpMetadata;
use crate::state::AppState;
use crate::web::admin::{check_csrf, event};
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

pub(super) fn date_fmt(state: &AppState) -> impl Fn(chrono::DateTime<chrono::Utc>) -> String + '_ {
    move |t| state.format_time(t.naive_utc())
}

#[derive(Serialize, Default)]
pub(super) struct SettingsErrors {
    pub(super) display_name: Option<&'static str>,
    pub(super) description: Option<&'static str>,
    pub(super) default_relay_state: Option<&'static str>,
    pub(super) session_minutes: Option<&'static str>,
    pub(super) signing: Option<&'static str>,
    pub(super) any: bool,
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
    /// People who have the service through a group only.
    via_groups: Vec<String>,
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

pub(super) async fn load(state: &AppState, id: i32) -> Result<Service, AppError> {
    db::run(&state.pool, move |c| services::find(c, id))
        .await?
        .ok_or(AppError::NotFound)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn show(
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
    let (users, events, group_names, via_groups) = db::run(&state.pool, move |c| {
        let users = services::assigned_usernames(c, sid)?;
        let via_groups = services::usernames_via_groups(c, sid)?;
        let group_names = crate::db::models::groups::names_of_service(c, sid)?;
        let filter = Filter {
            service: entity,
            kind: "sso".into(),
            ..Filter::default()
        };
        let events = audit::list(c, &filter, 0, 20)?;
        Ok((users, events, group_names, via_groups))
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
        via_groups,
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
