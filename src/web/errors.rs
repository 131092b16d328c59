//! The one place where error responses become readable pages.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::web;
use serde::Serialize;

use crate::error::ErrorInfo;
use crate::state::AppState;
use crate::web::page::{self, Rendered};

#[derive(Serialize)]
struct ErrorPage {
    code: &'static str,
    message_key: &'static str,
    status: u16,
}

fn generic(status: StatusCode) -> ErrorInfo {
    match status.as_u16() {
        404 | 405 => ErrorInfo {
            code: "HTTP-404",
            key: "error.not_found",
        },
        413 => ErrorInfo {
            code: "HTTP-413",
            key: "error.payload",
        },
        s if s >= 500 => ErrorInfo {
            code: "HTTP-500",
            key: "error.internal",
        },
        _ => ErrorInfo {
            code: "HTTP-400",
            key: "error.bad_request",
        },
    }
}

fn render_error<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if res.response().extensions().get::<Rendered>().is_some() {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let info = res
        .response()
        .extensions()
        .get::<ErrorInfo>()
        .cloned()
        .unwrap_or_else(|| generic(status));
    let Some(state) = res.request().app_data::<web::Data<AppState>>().cloned() else {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    };
    let data = ErrorPage {
        code: info.code,
        message_key: info.key,
        status: status.as_u16(),
    };
    let (req, _) = res.into_parts();
    let resp = match page::render(
        &state,
        &req,
        status,
        "errors/error",
        "error.title",
        None,
        data,
    ) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot render the error page");
            actix_web::HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(format!("{} {}", info.code, status))
        }
    };
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, resp).map_into_right_body(),
    ))
}

pub fn handlers<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(render_error)
}
