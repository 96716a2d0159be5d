//! `/api/v1/follows` and `/api/v1/resolve`: finding people and forums on other servers, and
//! following remote forums. Only when federation is enabled; resolving fetches from other
//! servers, so it needs a logged-in caller.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::json::{ForumJson, PostJson, ThreadJson, UserJson};
use super::{ApiResult, ApiUser};
use crate::error::JsonError;
use crate::forum::follows::Following;
use crate::forum::remote::{Resolved, Resolver};
use crate::state::AppState;

fn resolver(state: &AppState) -> Result<&dyn Resolver, JsonError> {
    state.resolver.as_deref().ok_or_else(|| {
        JsonError::new(
            404,
            "federation_disabled",
            "This instance does not federate (federation.enabled is off).",
        )
    })
}

/// `?q=handle or URL`
#[derive(Debug, Deserialize)]
pub struct ResolveQuery {
    q: String,
}

/// What `GET /api/v1/resolve` found.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResolvedJson {
    /// A forum.
    Forum {
        /// The forum.
        forum: ForumJson,
    },
    /// A person.
    User {
        /// The person.
        user: UserJson,
    },
    /// A thread.
    Thread {
        /// The thread.
        thread: ThreadJson,
    },
    /// A reply.
    Post {
        /// The reply.
        post: PostJson,
    },
}

/// GET /api/v1/resolve?q=
pub async fn resolve_target(
    state: web::Data<AppState>,
    _me: ApiUser,
    q: web::Query<ResolveQuery>,
) -> ApiResult {
    let found = resolver(&state)?.resolve(&q.q).await?;
    let urls = state.site.urls();
    Ok(HttpResponse::Ok().json(match found {
        Resolved::Forum(forum) => ResolvedJson::Forum {
            forum: ForumJson::new(&forum, urls),
        },
        Resolved::User(user) => ResolvedJson::User {
            user: UserJson::new(&user, urls),
        },
        Resolved::Thread(ctx) => ResolvedJson::Thread {
            thread: ThreadJson::new(&ctx.thread, &ctx.forum, &(&ctx.author).into(), urls),
        },
        Resolved::Post(ctx) => ResolvedJson::Post {
            post: PostJson::new(&ctx.post, &ctx.author, urls),
        },
    }))
}

/// `POST /api/v1/follows` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FollowBody {
    target: String,
}

/// A follow of a remote forum.
#[derive(Debug, Serialize)]
pub struct FollowJson {
    /// The forum.
    pub forum: ForumJson,
    /// `pending` until the forum accepts, then `accepted`.
    pub state: &'static str,
    /// When asked.
    pub created_at: String,
}

impl FollowJson {
    fn new(f: &Following, urls: &crate::forum::Urls) -> FollowJson {
        FollowJson {
            forum: ForumJson::new(&f.forum, urls),
            state: if f.follow.pending {
                "pending"
            } else {
                "accepted"
            },
            created_at: f
                .follow
                .created_at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        }
    }
}

/// POST /api/v1/follows: follow a remote forum by handle or URL. 202: the forum has been asked
/// and the follow is pending until it accepts.
pub async fn follow(
    state: web::Data<AppState>,
    me: ApiUser,
    body: web::Json<FollowBody>,
) -> ApiResult {
    let resolver = resolver(&state)?;
    if body.target.trim().is_empty() {
        return Err(crate::error::ForumError::invalid(
            "invalid_target",
            "target",
            "Say which forum to follow: a handle like forum@school.example or its address.",
        )
        .into());
    }
    let following = state
        .site
        .follow_target(me.user, &body.target, resolver)
        .await?;
    let status = if following.follow.pending {
        actix_web::http::StatusCode::ACCEPTED
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(FollowJson::new(&following, state.site.urls())))
}

/// GET /api/v1/follows: the remote forums the caller follows or asked to.
pub async fn list(state: web::Data<AppState>, me: ApiUser) -> ApiResult {
    resolver(&state)?;
    let following = state.site.following(me.user).await?;
    let urls = state.site.urls();
    Ok(HttpResponse::Ok().json(
        following
            .iter()
            .map(|f| FollowJson::new(f, urls))
            .collect::<Vec<_>>(),
    ))
}

/// DELETE /api/v1/follows/{forum handle}: stop following (or withdraw the request).
pub async fn unfollow(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<String>,
) -> ApiResult {
    resolver(&state)?;
    let forum = state
        .site
        .forum_by_handle(path.into_inner(), Some(me.user.clone()))
        .await?;
    state.site.unfollow_forum(me.user, forum.id).await?;
    Ok(HttpResponse::NoContent().finish())
}
