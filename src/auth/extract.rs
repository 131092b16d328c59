//! Extractors for the signed-in person.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::token;
use crate::db::models::sessions::{self, Session};
use crate::db::models::users::{Role, User};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::cookies::SESSION_COOKIE;

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: Session,
    pub user: User,
    pub token_hash: String,
}

/// Looks the request's session up, if any.
pub async fn load(req: &HttpRequest) -> Result<Option<SignedIn>, AppError> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(AppError::Internal("application state missing".into()));
    };
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    let token_hash = token::hash(cookie.value());
    let now = state.now();
    let idle = state.idle_timeout();
    let th = token_hash.clone();
    let found =
        crate::db::run(&state.pool, move |c| sessions::find_live(c, &th, now, idle)).await?;
    Ok(found.map(|(session, user)| SignedIn {
        session,
        user,
        token_hash,
    }))
}

/// Where to come back to after logging in.
pub fn return_path(req: &HttpRequest) -> String {
    if req.method() == actix_web::http::Method::GET {
        req.uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into())
    } else {
        req.path().to_string()
    }
}

/// A signed-in person who may use the portal (no pending forced password
/// change); otherwise the login or password page comes first.
pub struct CurrentUser(pub SignedIn);

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match load(&req).await? {
                None => Err(AppError::LoginRequired(return_path(&req))),
                Some(s) if s.user.must_change_password => {
                    Err(AppError::PasswordChangeRequired(return_path(&req)))
                }
                Some(s) => Ok(CurrentUser(s)),
            }
        })
    }
}

/// Any signed-in person, even one who must still change the password.
pub struct AnySession(pub SignedIn);

impl FromRequest for AnySession {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match load(&req).await? {
                None => Err(AppError::LoginRequired(return_path(&req))),
                Some(s) => Ok(AnySession(s)),
            }
        })
    }
}

/// The session if there is one; never fails for its absence.
pub struct MaybeSession(pub Option<SignedIn>);

impl FromRequest for MaybeSession {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(MaybeSession(load(&req).await?)) })
    }
}

/// A signed-in admin or contractor; anyone else gets 403.
pub struct AdminUser(pub SignedIn);

impl FromRequest for AdminUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = CurrentUser::from_request(req, payload);
        let path = req.path().to_string();
        Box::pin(async move {
            let CurrentUser(s) = user.await?;
            match s.user.role() {
                Role::Admin | Role::Contractor => Ok(AdminUser(s)),
                Role::User => Err(AppError::Forbidden(format!(
                    "{} is not an admin ({path})",
                    s.user.username
                ))),
            }
        })
    }
}

/// A signed-in contractor; admins and users get 403.
pub struct ContractorUser(pub SignedIn);

impl FromRequest for ContractorUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = CurrentUser::from_request(req, payload);
        Box::pin(async move {
            let CurrentUser(s) = user.await?;
            match s.user.role() {
                Role::Contractor => Ok(ContractorUser(s)),
                _ => Err(AppError::Forbidden(format!(
                    "{} is not the contractor",
                    s.user.username
                ))),
            }
        })
    }
}
