//! 個人情報: view and edit one's own profile.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::csrf;
use crate::auth::extract::CurrentUser;
use crate::db::models::audit::{self, Event};
use crate::db::models::users::{self, ProfileChange, User};
use crate::db::{self, to_naive};
use crate::domain::users::{normalise_phone, valid_phone};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::page::{render, see_other, Nav};

const MAX_LEN: usize = 100;

#[derive(Serialize, Default)]
struct Fields {
    display_name: String,
    phone: String,
    mobile: String,
    organization: String,
    department: String,
}

#[derive(Serialize, Default)]
struct FieldErrors {
    display_name: Option<&'static str>,
    phone: Option<&'static str>,
    mobile: Option<&'static str>,
    organization: Option<&'static str>,
    department: Option<&'static str>,
}

impl FieldErrors {
    fn any(&self) -> bool {
        self.display_name.is_some()
            || self.phone.is_some()
            || self.mobile.is_some()
            || self.organization.is_some()
            || self.department.is_some()
    }
}

#[derive(Serialize)]
struct ProfilePage {
    username: String,
    email: String,
    fields: Fields,
    previous_login: Option<String>,
    saved: bool,
    errors: FieldErrors,
    has_errors: bool,
}

fn profile_json(f: &Fields) -> serde_json::Value {
    serde_json::to_value(f).unwrap_or_default()
}

fn fields_of(u: &User) -> Fields {
    Fields {
        display_name: u.display_name.clone(),
        phone: u.phone.clone(),
        mobile: u.mobile.clone(),
        organization: u.organization.clone(),
        department: u.department.clone(),
    }
}

fn page_of(
    state: &AppState,
    u: &User,
    fields: Fields,
    errors: FieldErrors,
    saved: bool,
) -> ProfilePage {
    ProfilePage {
        username: u.username.clone(),
        email: u.email.clone(),
        previous_login: u.previous_login_at.map(|t| state.format_time(t)),
        fields,
        saved,
        has_errors: errors.any(),
        errors,
    }
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn get_profile(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    q: web::Query<SavedQuery>,
) -> Result<HttpResponse, AppError> {
    let u = &user.0.user;
    let data = page_of(
        &state,
        u,
        fields_of(u),
        FieldErrors::default(),
        q.saved.is_some(),
    );
    render(
        &state,
        &req,
        StatusCode::OK,
        "profile/show",
        "profile.title",
        Some(Nav::new(u, "profile")),
        data,
    )
}

pub async fn get_edit(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let u = &user.0.user;
    let data = page_of(&state, u, fields_of(u), FieldErrors::default(), false);
    render(
        &state,
        &req,
        StatusCode::OK,
        "profile/edit",
        "profile.title",
        Some(Nav::new(u, "profile")),
        data,
    )
}

#[derive(Deserialize)]
pub struct EditForm {
    csrf_token: String,
    display_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    organization: String,
    #[serde(default)]
    department: String,
}

fn validate(form: &EditForm) -> (Fields, FieldErrors) {
    let f = Fields {
        display_name: form.display_name.trim().to_string(),
        phone: normalise_phone(&form.phone),
        mobile: normalise_phone(&form.mobile),
        organization: form.organization.trim().to_string(),
        department: form.department.trim().to_string(),
    };
    let too_long = |s: &str| (s.chars().count() > MAX_LEN).then_some("profile.too_long");
    let phone = |s: &str| {
        if s.is_empty() {
            None
        } else if !valid_phone(s) {
            Some("profile.phone_invalid")
        } else {
            None
        }
    };
    let e = FieldErrors {
        display_name: if f.display_name.is_empty() {
            Some("profile.name_required")
        } else {
            too_long(&f.display_name)
        },
        phone: phone(&f.phone),
        mobile: phone(&f.mobile),
        organization: too_long(&f.organization),
        department: too_long(&f.department),
    };
    (f, e)
}

pub async fn post_edit(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    form: web::Form<EditForm>,
) -> Result<HttpResponse, AppError> {
    if !csrf::verify(&req, &form.csrf_token) {
        return Err(AppError::Csrf);
    }
    let u = user.0.user;
    let (fields, errors) = validate(&form);
    if errors.any() {
        let data = page_of(&state, &u, fields, errors, false);
        let nav = Nav::new(&u, "profile");
        return render(
            &state,
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            "profile/edit",
            "profile.title",
            Some(nav),
            data,
        );
    }
    let change = ProfileChange {
        display_name: fields.display_name,
        phone: fields.phone,
        mobile: fields.mobile,
        organization: fields.organization,
        department: fields.department,
        updated_at: to_naive(state.now()),
    };
    let uid = u.id;
    let e = Event::new("profile.update", &u.username)
        .subject(&u.username)
        .ip(&crate::web::login::client_ip(&req))
        .detail(serde_json::json!({
            "before": profile_json(&fields_of(&u)),
            "after": profile_json(&Fields {
                display_name: change.display_name.clone(),
                phone: change.phone.clone(),
                mobile: change.mobile.clone(),
                organization: change.organization.clone(),
                department: change.department.clone(),
            }),
        }));
    let now = state.now();
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        users::update_profile(c, uid, &change)
    })
    .await?;
    tracing::info!(username = %u.username, "profile updated");
    Ok(see_other("/profile?saved=1"))
}
