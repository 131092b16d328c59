//! Admin: users imported from and exported to CSV.

use actix_multipart::form::{tempfile::TempFile, text::Text, MultipartForm};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::auth::extract::{AdminUser, SignedIn};
use crate::db::models::audit;
use crate::db::{self};
use crate::domain::user_import::{self, LineReport, COLUMNS};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::admin::{check_csrf, event};
use crate::web::page::{render, Nav};

fn nav(a: &SignedIn) -> Option<Nav> {
    Some(Nav::new(&a.user, "users"))
}

#[derive(Serialize)]
struct Created {
    username: String,
    password: String,
}

#[derive(Serialize, Default)]
struct ImportPage {
    columns: String,
    done: bool,
    dry_run: bool,
    applied: bool,
    file_error: Option<&'static str>,
    file_error_line: usize,
    lines: Vec<LineReport>,
    creates: usize,
    updates: usize,
    unchanged: usize,
    errors: usize,
    created: Vec<Created>,
}

pub async fn get_import(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let data = ImportPage {
        columns: COLUMNS.join(","),
        ..ImportPage::default()
    };
    render(
        &state,
        &req,
        StatusCode::OK,
        "admin/users/import",
        "admin.csv_import",
        nav(&admin.0),
        data,
    )
}

#[derive(MultipartForm)]
pub struct ImportForm {
    #[multipart(limit = "8MiB")]
    file: Option<TempFile>,
    dry_run: Option<Text<String>>,
    csrf_token: Text<String>,
}

pub async fn post_import(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    MultipartForm(form): MultipartForm<ImportForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let dry_run = form.dry_run.is_some();
    let text = match form.file.filter(|f| f.size > 0) {
        Some(f) => std::fs::read(f.file.path())
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
        None => None,
    };
    let Some(text) = text else {
        let data = ImportPage {
            columns: COLUMNS.join(","),
            done: true,
            dry_run,
            file_error: Some("csv.no_file"),
            ..ImportPage::default()
        };
        return render(
            &state,
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            "admin/users/import",
            "admin.csv_import",
            nav(&admin.0),
            data,
        );
    };
    let actor = admin.0.user.role();
    let now = state.now();
    let e = event("admin.csv.import", &admin.0, &req, "");
    let (plan, created) = db::run(&state.pool, move |c| {
        db::write_tx(c, |c| {
            let plan = user_import::plan(c, &text, actor)?;
            if dry_run || !plan.ok() {
                return Ok((plan, None));
            }
            let created = user_import::apply(c, &plan, now)?;
            let detail = serde_json::json!({
                "created": plan.count("create"),
                "updated": plan.count("update"),
                "users": plan.lines.iter().filter(|l| l.action != "unchanged").map(|l| l.username.clone()).collect::<Vec<_>>(),
            });
            audit::insert(c, &e.detail(detail), now)?;
            Ok((plan, Some(created)))
        })
    })
    .await?;
    let ok = plan.ok();
    let data = ImportPage {
        columns: COLUMNS.join(","),
        done: true,
        dry_run,
        applied: created.is_some(),
        file_error: plan.file_error.map(|(k, _)| k),
        file_error_line: plan.file_error.map(|(_, l)| l).unwrap_or(0),
        creates: plan.count("create"),
        updates: plan.count("update"),
        unchanged: plan.count("unchanged"),
        errors: plan.count("error"),
        created: created
            .unwrap_or_default()
            .into_iter()
            .map(|(username, password)| Created { username, password })
            .collect(),
        lines: plan.lines,
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        &state,
        &req,
        status,
        "admin/users/import",
        "admin.csv_import",
        nav(&admin.0),
        data,
    )
}

pub async fn get_export(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let now = state.now();
    let e = event("admin.csv.export", &admin.0, &req, "");
    let body = db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        user_import::export(c)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"omakase-users.csv\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
