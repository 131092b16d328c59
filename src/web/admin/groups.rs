//! Admin: groups: create, rename, delete, members, services.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::extract::{AdminUser, SignedIn};
use crate::db::models::groups::{self, Group};
use crate::db::models::{audit, services, users};
use crate::db::{self, to_naive};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::admin::{check_csrf, event};
use crate::web::page::{render, see_other, Nav};

fn nav(a: &SignedIn) -> Option<Nav> {
    Some(Nav::new(&a.user, "groups"))
}

fn valid_name(name: &str) -> bool {
    (1..=100).contains(&name.chars().count())
}

#[derive(Serialize)]
struct Row {
    id: i32,
    name: String,
    members: i64,
}

#[derive(Serialize)]
struct ListPage {
    rows: Vec<Row>,
    error_key: Option<&'static str>,
    notice_key: Option<&'static str>,
    name: String,
}

#[derive(Deserialize)]
pub struct ListQuery {
    deleted: Option<String>,
}

async fn list_page(
    state: &AppState,
    req: &HttpRequest,
    admin: &SignedIn,
    name: String,
    error_key: Option<&'static str>,
    notice_key: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let rows = db::run(&state.pool, |c| {
        let mut rows = Vec::new();
        for g in groups::list(c)? {
            rows.push(Row {
                members: groups::count_members(c, g.id)?,
                id: g.id,
                name: g.name,
            });
        }
        Ok(rows)
    })
    .await?;
    let status = if error_key.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let data = ListPage {
        rows,
        error_key,
        notice_key,
        name,
    };
    render(
        state,
        req,
        status,
        "admin/groups/list",
        "admin.groups_title",
        nav(admin),
        data,
    )
}

pub async fn get_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let notice = q.deleted.is_some().then_some("admin.group_deleted");
    list_page(&state, &req, &admin.0, String::new(), None, notice).await
}

#[derive(Deserialize)]
pub struct NameForm {
    csrf_token: String,
    name: String,
}

pub async fn post_create(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let name = form.name.trim().to_string();
    if !valid_name(&name) {
        return list_page(
            &state,
            &req,
            &admin.0,
            name,
            Some("admin.group_name_invalid"),
            None,
        )
        .await;
    }
    let now = state.now();
    let e = event("admin.group.create", &admin.0, &req, "")
        .detail(serde_json::json!({ "group": name }));
    let n = name.clone();
    let created = db::run(&state.pool, move |c| {
        let g = groups::insert(c, &n, to_naive(now))?;
        if g.is_some() {
            audit::insert(c, &e, now)?;
        }
        Ok(g)
    })
    .await?;
    match created {
        Some(g) => Ok(see_other(&format!("/admin/groups/{}", g.id))),
        None => {
            list_page(
                &state,
                &req,
                &admin.0,
                name,
                Some("admin.group_name_taken"),
                None,
            )
            .await
        }
    }
}

#[derive(Serialize)]
struct ServiceRef {
    entity_id: String,
    name: String,
}

#[derive(Serialize)]
struct ShowPage {
    group: Group,
    members: Vec<String>,
    services: Vec<ServiceRef>,
    all_services: Vec<ServiceRef>,
    notice_key: Option<&'static str>,
    error_key: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    notice: Option<String>,
    error: Option<String>,
}

pub async fn get_show(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (group, members, in_group, all) = db::run(&state.pool, move |c| {
        let Some(g) = groups::find(c, id)? else {
            return Ok(None);
        };
        Ok(Some((
            g,
            groups::member_names(c, id)?,
            groups::service_names(c, id)?,
            services::list(c)?,
        )))
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let data = ShowPage {
        group,
        members,
        all_services: all
            .into_iter()
            .filter(|s| !in_group.iter().any(|(e, _)| *e == s.entity_id))
            .map(|s| ServiceRef {
                entity_id: s.entity_id,
                name: s.display_name,
            })
            .collect(),
        services: in_group
            .into_iter()
            .map(|(entity_id, name)| ServiceRef { entity_id, name })
            .collect(),
        notice_key: match q.notice.as_deref() {
            Some("saved") => Some("admin.saved"),
            _ => None,
        },
        error_key: match q.error.as_deref() {
            Some("no_such_user") => Some("admin.no_such_user"),
            Some("no_such_service") => Some("admin.no_such_service"),
            Some("name") => Some("admin.group_name_invalid"),
            Some("taken") => Some("admin.group_name_taken"),
            Some("confirm") => Some("admin.delete_group_mismatch"),
            _ => None,
        },
    };
    render(
        &state,
        &req,
        StatusCode::OK,
        "admin/groups/show",
        "admin.groups_title",
        nav(&admin.0),
        data,
    )
}

async fn load(state: &AppState, id: i32) -> Result<Group, AppError> {
    db::run(&state.pool, move |c| groups::find(c, id))
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn post_rename(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let g = load(&state, path.into_inner()).await?;
    let name = form.name.trim().to_string();
    let id = g.id;
    if !valid_name(&name) {
        return Ok(see_other(&format!("/admin/groups/{id}?error=name")));
    }
    let now = state.now();
    let e = event("admin.group.rename", &admin.0, &req, "")
        .detail(serde_json::json!({ "before": g.name, "after": name }));
    let renamed = db::run(&state.pool, move |c| {
        let ok = groups::rename(c, id, &name)?;
        if ok {
            audit::insert(c, &e, now)?;
        }
        Ok(ok)
    })
    .await?;
    Ok(see_other(&if renamed {
        format!("/admin/groups/{id}?notice=saved")
    } else {
        format!("/admin/groups/{id}?error=taken")
    }))
}

#[derive(Deserialize)]
pub struct MemberForm {
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    entity_id: String,
    op: String,
}

/// Adds or removes a member (`username`) or a service (`entity_id`).
pub async fn post_change(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<MemberForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    check_csrf(&req, &f.csrf_token)?;
    let g = load(&state, path.into_inner()).await?;
    let id = g.id;
    let kind = match f.op.as_str() {
        "add_member" => "admin.group.add_member",
        "remove_member" => "admin.group.remove_member",
        "add_service" => "admin.group.add_service",
        "remove_service" => "admin.group.remove_service",
        other => return Err(AppError::BadRequest(format!("unknown op {other}"))),
    };
    let username = f.username.trim().to_string();
    let entity_id = f.entity_id.trim().to_string();
    let e = event(kind, &admin.0, &req, &entity_id)
        .subject(&username)
        .detail(serde_json::json!({ "group": g.name }));
    let now = state.now();
    let op = f.op.clone();
    let outcome = db::run(&state.pool, move |c| {
        if op.ends_with("member") {
            let Some(u) = users::find_by_username(c, &username)? else {
                return Ok("error=no_such_user");
            };
            if op == "add_member" {
                groups::add_member(c, id, u.id)?;
            } else {
                groups::remove_member(c, id, u.id)?;
            }
        } else {
            let Some(s) = services::find_by_entity_id(c, &entity_id)? else {
                return Ok("error=no_such_service");
            };
            if op == "add_service" {
                groups::add_service(c, id, s.id)?;
            } else {
                groups::remove_service(c, id, s.id)?;
            }
        }
        audit::insert(c, &e, now)?;
        Ok("notice=saved")
    })
    .await?;
    Ok(see_other(&format!("/admin/groups/{id}?{outcome}")))
}

pub async fn post_delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let g = load(&state, path.into_inner()).await?;
    if form.name.trim() != g.name {
        return Ok(see_other(&format!("/admin/groups/{}?error=confirm", g.id)));
    }
    let now = state.now();
    let e = event("admin.group.delete", &admin.0, &req, "")
        .detail(serde_json::json!({ "group": g.name }));
    let id = g.id;
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        groups::delete(c, id)
    })
    .await?;
    Ok(see_other("/admin/groups?deleted=1"))
}
