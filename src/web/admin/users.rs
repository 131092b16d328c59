//! Admin: users: list and search, create, edit, disable, lock, temporary
//! password, role, delete.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::extract::{AdminUser, SignedIn};
use crate::auth::mfa::{self, Factors};
use crate::auth::password;
use crate::db::models::audit;
use crate::db::models::groups;
use crate::db::models::users::{self, AdminChange, Role, User};
use crate::db::{self};
use crate::domain::users::{self as du, may_manage, may_set_role};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::admin::{check_csrf, event};
use crate::web::page::{render, see_other, url_encode, Nav};

const PAGE: i64 = 50;

pub(super) fn nav(a: &SignedIn) -> Option<Nav> {
    Some(Nav::new(&a.user, "users"))
}

#[derive(Serialize)]
struct Row {
    id: i32,
    username: String,
    display_name: String,
    email: String,
    role: String,
    disabled: bool,
    locked: bool,
}

#[derive(Serialize)]
struct ListPage {
    q: String,
    rows: Vec<Row>,
    total: i64,
    page: i64,
    prev: Option<String>,
    next: Option<String>,
    notice_key: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
    deleted: Option<String>,
}

pub async fn get_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.q.trim().to_string();
    let page = query.page.unwrap_or(1).max(1);
    let qq = q.clone();
    let (list, total) = db::run(&state.pool, move |c| {
        Ok((
            users::search(c, &qq, (page - 1) * PAGE, PAGE)?,
            users::count_search(c, &qq)?,
        ))
    })
    .await?;
    let link = |p: i64| format!("/admin/users?q={}&page={p}", url_encode(&q));
    let data = ListPage {
        prev: (page > 1).then(|| link(page - 1)),
        next: (page * PAGE < total).then(|| link(page + 1)),
        rows: list
            .into_iter()
            .map(|u| Row {
                id: u.id,
                username: u.username,
                display_name: u.display_name,
                email: u.email,
                role: u.role,
                disabled: u.disabled,
                locked: u.locked,
            })
            .collect(),
        total,
        page,
        q,
        notice_key: query.deleted.is_some().then_some("admin.user_deleted"),
    };
    render(
        &state,
        &req,
        StatusCode::OK,
        "admin/users/list",
        "admin.users_title",
        nav(&admin.0),
        data,
    )
}

#[derive(Serialize, Default)]
struct Errors {
    username: Option<&'static str>,
    email: Option<&'static str>,
    display_name: Option<&'static str>,
    phone: Option<&'static str>,
    mobile: Option<&'static str>,
    role: Option<&'static str>,
    any: bool,
}

impl Errors {
    fn done(mut self) -> Self {
        self.any = self.username.is_some()
            || self.email.is_some()
            || self.display_name.is_some()
            || self.phone.is_some()
            || self.mobile.is_some()
            || self.role.is_some();
        self
    }
}

#[derive(Serialize)]
struct RoleOption {
    key: &'static str,
    selected: bool,
}

fn role_options(actor: Role, current: Role) -> Vec<RoleOption> {
    [Role::User, Role::Admin, Role::Contractor]
        .into_iter()
        .filter(|r| may_set_role(actor, current, *r))
        .map(|r| RoleOption {
            key: r.as_str(),
            selected: r == current,
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct UserForm {
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    organization: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    role: String,
}

fn validate(f: &UserForm, check_username: bool) -> (AdminChange, Errors) {
    let c = AdminChange {
        email: f.email.trim().to_string(),
        display_name: f.display_name.trim().to_string(),
        phone: du::normalise_phone(&f.phone),
        mobile: du::normalise_phone(&f.mobile),
        organization: f.organization.trim().chars().take(100).collect(),
        department: f.department.trim().chars().take(100).collect(),
    };
    let phone = |s: &str| (!s.is_empty() && !du::valid_phone(s)).then_some("profile.phone_invalid");
    let e = Errors {
        username: (check_username && !du::valid_username(f.username.trim()))
            .then_some("admin.username_invalid"),
        email: (!c.email.is_empty() && !du::valid_email(&c.email)).then_some("admin.email_invalid"),
        display_name: match c.display_name.chars().count() {
            0 => Some("profile.name_required"),
            n if n > 100 => Some("profile.too_long"),
            _ => None,
        },
        phone: phone(&c.phone),
        mobile: phone(&c.mobile),
        role: Role::parse(&f.role)
            .is_none()
            .then_some("admin.role_invalid"),
        any: false,
    };
    (c, e.done())
}

#[derive(Serialize)]
struct NewPage {
    username: String,
    fields: AdminChange,
    roles: Vec<RoleOption>,
    errors: Errors,
}

pub async fn get_new(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let data = NewPage {
        username: String::new(),
        fields: AdminChange {
            email: String::new(),
            display_name: String::new(),
            phone: String::new(),
            mobile: String::new(),
            organization: String::new(),
            department: String::new(),
        },
        roles: role_options(admin.0.user.role(), Role::User),
        errors: Errors::default(),
    };
    render(
        &state,
        &req,
        StatusCode::OK,
        "admin/users/new",
        "admin.users_new",
        nav(&admin.0),
        data,
    )
}

#[derive(Serialize)]
pub(super) struct OneTimePage {
    pub(super) username: String,
    pub(super) password: String,
    pub(super) created: bool,
    pub(super) id: i32,
}

pub async fn post_new(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    form: web::Form<UserForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    check_csrf(&req, &f.csrf_token)?;
    let actor = admin.0.user.role();
    let (change, mut errors) = validate(&f, true);
    let role = Role::parse(&f.role).unwrap_or(Role::User);
    if !may_set_role(actor, Role::User, role) {
        errors.role = Some("admin.role_forbidden");
        errors = errors.done();
    }
    let username = f.username.trim().to_string();
    let fail = |errors: Errors, change: AdminChange| {
        let data = NewPage {
            username: username.clone(),
            fields: change,
            roles: role_options(actor, role),
            errors,
        };
        render(
            &state,
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            "admin/users/new",
            "admin.users_new",
            nav(&admin.0),
            data,
        )
    };
    if errors.any {
        return fail(errors, change);
    }
    let one_time = password::generate_one_time();
    let now = state.now();
    let e = event("admin.user.create", &admin.0, &req, "")
        .subject(&username)
        .detail(serde_json::json!({ "role": role.as_str(), "profile": change }));
    let (name, pw, ch) = (username.clone(), one_time.clone(), change.clone());
    let created = db::run(&state.pool, move |c| {
        let input = du::UserInput {
            username: &name,
            email: &ch.email,
            display_name: &ch.display_name,
            role,
            password: &pw,
            must_change_password: true,
        };
        match du::create(c, &input, now) {
            Ok(u) => {
                users::update_admin(c, u.id, &ch, now)?;
                audit::insert(c, &e, now)?;
                Ok(Some(u.id))
            }
            Err(du::UserError::Exists(_)) => Ok(None),
            Err(du::UserError::Db(e)) => Err(e),
            Err(other) => Err(db::DbError::Migration(other.to_string())),
        }
    })
    .await?;
    let Some(id) = created else {
        let errors = Errors {
            username: Some("admin.username_taken"),
            ..Errors::default()
        }
        .done();
        return fail(errors, change);
    };
    let data = OneTimePage {
        username,
        password: one_time,
        created: true,
        id,
    };
    render(
        &state,
        &req,
        StatusCode::OK,
        "admin/users/one_time",
        "admin.users_new",
        nav(&admin.0),
        data,
    )
}

pub(super) async fn load(state: &AppState, id: i32) -> Result<User, AppError> {
    db::run(&state.pool, move |c| users::find(c, id))
        .await?
        .ok_or(AppError::NotFound)
}

pub(super) fn forbid_unless_manages(admin: &SignedIn, target: &User) -> Result<(), AppError> {
    if may_manage(admin.user.role(), target.role()) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "{} may not manage {} ({})",
            admin.user.username, target.username, target.role
        )))
    }
}

#[derive(Serialize)]
struct ShowPage {
    id: i32,
    username: String,
    fields: AdminChange,
    roles: Vec<RoleOption>,
    errors: Errors,
    disabled: bool,
    locked: bool,
    /// When the account locked itself (empty for an admin's lock).
    auto_locked_at: Option<String>,
    failed_logins: i32,
    factors: Factors,
    mfa_required_own: bool,
    mfa_required: bool,
    must_change_password: bool,
    is_self: bool,
    groups: Vec<String>,
    last_login: Option<String>,
    notice_key: Option<&'static str>,
    error_key: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    notice: Option<String>,
    error: Option<String>,
}

fn notice_key(n: Option<&str>) -> Option<&'static str> {
    match n? {
        "saved" => Some("admin.saved"),
        "disabled" => Some("admin.user_disabled"),
        "enabled" => Some("admin.user_enabled"),
        "locked" => Some("admin.user_locked"),
        "unlocked" => Some("admin.user_unlocked"),
        "mfa_reset" => Some("admin.user_mfa_reset"),
        _ => None,
    }
}

fn error_key(n: Option<&str>) -> Option<&'static str> {
    match n? {
        "self" => Some("admin.not_on_self"),
        "last_contractor" => Some("admin.last_contractor"),
        "confirm" => Some("admin.delete_user_mismatch"),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
async fn show(
    state: &AppState,
    req: &HttpRequest,
    admin: &SignedIn,
    u: User,
    fields: AdminChange,
    errors: Errors,
    notice: Option<&'static str>,
    error: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let target = u.clone();
    let (group_names, factors, mfa_required) = db::run(&state.pool, move |c| {
        Ok((
            groups::names_of_user(c, target.id)?,
            mfa::factors(c, &target)?,
            mfa::required(c, &target)?,
        ))
    })
    .await?;
    let status = if errors.any {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let data = ShowPage {
        id: u.id,
        roles: role_options(admin.user.role(), u.role()),
        is_self: u.id == admin.user.id,
        username: u.username,
        fields,
        errors,
        disabled: u.disabled,
        locked: u.locked,
        auto_locked_at: u
            .auto_locked_at
            .filter(|_| u.locked)
            .map(|t| state.format_time(t)),
        failed_logins: u.failed_logins,
        factors,
        mfa_required_own: u.mfa_required,
        mfa_required,
        must_change_password: u.must_change_password,
        groups: group_names,
        last_login: u.last_login_at.map(|t| state.format_time(t)),
        notice_key: notice,
        error_key: error,
    };
    render(
        state,
        req,
        status,
        "admin/users/show",
        "admin.users_title",
        nav(admin),
        data,
    )
}

pub async fn get_show(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse, AppError> {
    let u = load(&state, path.into_inner()).await?;
    let fields = AdminChange::of(&u);
    let (n, e) = (
        notice_key(q.notice.as_deref()),
        error_key(q.error.as_deref()),
    );
    show(&state, &req, &admin.0, u, fields, Errors::default(), n, e).await
}

/// Whether removing `target` from the contractors would leave none.
pub(super) async fn is_last_contractor(state: &AppState, target: &User) -> Result<bool, AppError> {
    if target.role() != Role::Contractor {
        return Ok(false);
    }
    Ok(db::run(&state.pool, |c| users::count_role(c, Role::Contractor)).await? <= 1)
}

pub async fn post_edit(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<UserForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    check_csrf(&req, &f.csrf_token)?;
    let u = load(&state, path.into_inner()).await?;
    forbid_unless_manages(&admin.0, &u)?;
    let (change, mut errors) = validate(&f, false);
    let role = Role::parse(&f.role).unwrap_or(u.role());
    if !may_set_role(admin.0.user.role(), u.role(), role) {
        errors.role = Some("admin.role_forbidden");
    }
    if role != u.role() && u.id == admin.0.user.id {
        errors.role = Some("admin.not_on_self");
    }
    if role != Role::Contractor && is_last_contractor(&state, &u).await? {
        errors.role = Some("admin.last_contractor");
    }
    let errors = errors.done();
    if errors.any {
        return show(&state, &req, &admin.0, u, change, errors, None, None).await;
    }
    let before = AdminChange::of(&u);
    let e = event("admin.user.update", &admin.0, &req, "")
        .subject(&u.username)
        .detail(serde_json::json!({
            "before": { "profile": before, "role": u.role },
            "after": { "profile": change, "role": role.as_str() },
        }));
    let (id, now, role_changed) = (u.id, state.now(), role != u.role());
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        users::update_admin(c, id, &change, now)?;
        if role_changed {
            users::set_role(c, id, role)?;
        }
        Ok(())
    })
    .await?;
    Ok(see_other(&format!("/admin/users/{id}?notice=saved")))
}
