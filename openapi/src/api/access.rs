//! Who may do what. Reading the catalogue is public; the operations that change it, and everything about
//! borrowers and loans, are the librarian's; a borrower (a token whose subject is linked to a borrower
//! record, with the borrower scope) may read their own record and loans and write, edit and delete their
//! own reviews. Librarians may do everything a borrower may, for any borrower (e.g. remove a review).

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;
use sea_orm::ConnectionTrait;

use super::ApiResult;
use crate::AppState;
use crate::auth::Principal;
use crate::dto::ReviewReader;
use crate::problem::ApiError;

/// A bearer JWT: an Amazon Cognito access or ID token in production. With the local server in dev mode,
/// get one at `/auth/dev-token?role=librarian` (or `?role=borrower&subject=demo-ada`) and paste it into
/// Authorize.
#[derive(SecurityScheme)]
#[oai(rename = "bearerAuth", ty = "bearer", bearer_format = "JWT", checker = "authenticate")]
pub struct Token(pub Principal);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Token").field(&self.0.subject).finish()
    }
}

/// A bearer JWT where one is optional: public reads that show more to a librarian or an author. A missing
/// or unusable token reads as anonymous, never as an error, so the public view stays public.
#[derive(SecurityScheme)]
pub enum MaybeToken {
    Token(Token),
    #[oai(fallback)]
    Anonymous,
}

impl std::fmt::Debug for MaybeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Token(token) => token.fmt(f),
            Self::Anonymous => f.write_str("Anonymous"),
        }
    }
}

impl MaybeToken {
    /// Who reads reviews: a librarian, the borrower linked to the token, or the public.
    pub async fn review_reader<C: ConnectionTrait>(&self, db: &C) -> ApiResult<ReviewReader> {
        let Self::Token(token) = self else { return Ok(ReviewReader::Public) };
        if token.0.librarian {
            return Ok(ReviewReader::Librarian);
        }
        if !token.0.borrower {
            return Ok(ReviewReader::Public);
        }
        Ok(match service::borrowers::find_by_subject(db, &token.0.subject).await? {
            Some(borrower) => ReviewReader::Borrower(borrower.id),
            None => ReviewReader::Public,
        })
    }
}

/// A bearer token already checked earlier in this request (the idempotency middleware checks it to know
/// whose key it is), with what it proved, so the operation does not check the signature again.
#[derive(Clone, Debug)]
pub(crate) struct VerifiedToken {
    pub(crate) token: String,
    pub(crate) principal: Principal,
}

async fn authenticate(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    if let Some(verified) = req.data::<VerifiedToken>()
        && verified.token == bearer.token
    {
        return Ok(verified.principal.clone());
    }
    let Some(state) = req.data::<AppState>() else {
        return Err(error(ApiError::internal()));
    };
    state.auth.authenticate(&bearer.token).await.map_err(|e| error(e.into()))
}

pub(super) fn error(error: ApiError) -> poem::Error {
    poem::Error::from_response(poem::IntoResponse::into_response(error))
}

/// The caller, as the rules see them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Librarian,
    /// The borrower record the token is linked to.
    Borrower(i64),
}

impl Token {
    /// Only librarians pass.
    pub fn librarian(&self) -> ApiResult<()> {
        if self.0.librarian {
            Ok(())
        } else {
            Err(ApiError::forbidden("this operation needs the librarian scope", &self.0.librarian_scope))
        }
    }

    /// A librarian, or the borrower linked to the token's subject.
    pub async fn actor<C: ConnectionTrait>(&self, db: &C) -> ApiResult<Actor> {
        if self.0.librarian {
            return Ok(Actor::Librarian);
        }
        if !self.0.borrower {
            return Err(ApiError::forbidden(
                "this operation needs the librarian or the borrower scope",
                &self.0.librarian_scope,
            ));
        }
        match service::borrowers::find_by_subject(db, &self.0.subject).await? {
            Some(borrower) => Ok(Actor::Borrower(borrower.id)),
            None => Err(ApiError::forbidden(
                "no borrower record is linked to this token's subject; ask a librarian to link it",
                &self.0.librarian_scope,
            )),
        }
    }

    /// A librarian, or the borrower `borrower_id` themselves.
    pub async fn librarian_or<C: ConnectionTrait>(&self, db: &C, borrower_id: i64) -> ApiResult<Actor> {
        let actor = self.actor(db).await?;
        actor.may_act_for(borrower_id, &self.0.librarian_scope)?;
        Ok(actor)
    }

    pub fn librarian_scope(&self) -> &str {
        &self.0.librarian_scope
    }
}

impl Actor {
    /// Refuses a borrower acting on another borrower's behalf.
    pub fn may_act_for(self, borrower_id: i64, librarian_scope: &str) -> ApiResult<()> {
        match self {
            Self::Borrower(own) if own != borrower_id => {
                Err(ApiError::forbidden("borrowers may act only on their own records", librarian_scope))
            }
            _ => Ok(()),
        }
    }
}
