//! Application errors: one enum, mapped to a response in one place. People
//! get a readable page (rendered by `web::errors`) with a stable code; the
//! cause goes to the log only.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::db::DbError;
use crate::saml::SamlError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A SAML request we refuse without answering the SP.
    #[error("{code}: {cause}")]
    Saml {
        code: &'static str,
        key: &'static str,
        status: u16,
        cause: String,
    },
    #[error("login required")]
    LoginRequired(String),
    #[error("password change required")]
    PasswordChangeRequired(String),
    #[error("second factor required")]
    SecondFactorRequired(String),
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("the form has expired (CSRF token mismatch)")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// What the error page shows, carried on the response for `web::errors`.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub key: &'static str,
}

impl AppError {
    pub fn saml(code: &'static str, key: &'static str, status: u16, cause: impl ToString) -> Self {
        AppError::Saml {
            code,
            key,
            status,
            cause: cause.to_string(),
        }
    }

    /// A refused SAML message whose protocol error says what is wrong.
    pub fn from_saml(e: SamlError) -> Self {
        let (code, key) = match &e {
            SamlError::Base64 | SamlError::Deflate => ("SAML-001", "error.saml_encoding"),
            SamlError::TooLarge(_) => ("SAML-002", "error.saml_too_large"),
            SamlError::Doctype | SamlError::Xml(_) => ("SAML-003", "error.saml_xml"),
            SamlError::Unexpected(_) | SamlError::Missing(_) | SamlError::Invalid(_) => {
                ("SAML-004", "error.saml_request")
            }
            SamlError::Crypto(_) => ("SAML-010", "error.saml_signature"),
        };
        AppError::saml(code, key, 400, e)
    }

    pub fn info(&self) -> ErrorInfo {
        let (code, key) = match self {
            AppError::Saml { code, key, .. } => (*code, *key),
            AppError::LoginRequired(_)
            | AppError::PasswordChangeRequired(_)
            | AppError::SecondFactorRequired(_) => ("AUTH-001", "error.login_required"),
            AppError::NotFound => ("HTTP-404", "error.not_found"),
            AppError::Forbidden(_) => ("HTTP-403", "error.forbidden"),
            AppError::Csrf => ("HTTP-403", "error.csrf"),
            AppError::BadRequest(_) => ("HTTP-400", "error.bad_request"),
            AppError::Db(_) | AppError::Internal(_) => ("HTTP-500", "error.internal"),
        };
        ErrorInfo { code, key }
    }
}

fn redirect_with_next(path: &str, next: &str) -> HttpResponse {
    let url = format!(
        "{path}?next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Saml { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST)
            }
            AppError::LoginRequired(_)
            | AppError::PasswordChangeRequired(_)
            | AppError::SecondFactorRequired(_) => StatusCode::SEE_OTHER,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Db(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::LoginRequired(next) => return redirect_with_next("/login", next),
            AppError::PasswordChangeRequired(next) => return redirect_with_next("/password", next),
            AppError::SecondFactorRequired(next) => return redirect_with_next("/mfa", next),
            _ => {}
        }
        let info = self.info();
        if self.status_code().is_server_error() {
            tracing::error!(code = info.code, error = %self, "request failed");
        } else {
            tracing::warn!(code = info.code, error = %self, "request refused");
        }
        let mut resp = HttpResponse::build(self.status_code()).finish();
        resp.extensions_mut().insert(info);
        resp
    }
}
