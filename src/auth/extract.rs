//! Extractors for the signed-in person.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::{mfa, token};
use crate::db::models::sessions::{self, Session};
use crate::db::models::users::{Role, User};
use crate::error::AppError;
use crate::saml::authn_context::Achieved;
use crate::state::AppState;
use crate::web::cookies::SESSION_COOKIE;

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: Session,
    pub user: User,
    pub token_hash: String,
}

impl SignedIn {
    /// Password and, where one is due, the second factor are done.
    pub fn is_complete(&self) -> bool {
        self.session.stage == mfa::STAGE_FULL
    }

    /// What the person did to authenticate in this session.
    pub fn achieved(&self) -> Achieved<'_> {
        match self.session.mfa_at {
            Some(_) => Achieved::SecondFactor(&self.session.mfa_method),
            None => Achieved::Password,
        }
    }
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

/// What a session must do before it may be used, as the redirect there
/// (coming back to `here`): the second factor, the forced password change,
/// or setting up a second factor.
pub fn unfinished(s: &SignedIn, here: &str) -> Option<AppError> {
    if s.session.stage == mfa::STAGE_MFA {
        Some(AppError::SecondFactorRequired(here.to_string()))
    } else if s.user.must_change_password {
        Some(AppError::PasswordChangeRequired(here.to_string()))
    } else if !s.is_complete() {
        Some(AppError::SecondFactorRequired(here.to_string()))
    } else {
        None
    }
}

/// A signed-in person who may use the portal: the second factor given (or
/// set up) and no forced password change pending; otherwise the page that
/// comes first.
pub struct CurrentUser(pub SignedIn);

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let Some(s) = load(&req).await? else {
                return Err(AppError::LoginRequired(return_path(&req)));
            };
            match unfinished(&s, &return_path(&req)) {
                Some(e) => Err(e),
                None => Ok(CurrentUser(s)),
            }
        })
    }
}

/// A signed-in person past the second factor, even one who must still
/// change the password or set up a second factor.
pub struct AnySession(pub SignedIn);

impl FromRequest for AnySession {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match load(&req).await? {
                None => Err(AppError::LoginRequired(return_path(&req))),
                Some(s) if s.session.stage == mfa::STAGE_MFA => {
                    Err(AppError::SecondFactorRequired(return_path(&req)))
                }
                Some(s) => Ok(AnySession(s)),
            }
        })
    }
}

/// Any session, in any stage (the second-factor pages).
pub struct PartialSession(pub SignedIn);

impl FromRequest for PartialSession {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match load(&req).await? {
                None => Err(AppError::LoginRequired(return_path(&req))),
                Some(s) => Ok(PartialSession(s)),
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
