//! Blocked servers through the API (administrators): `/api/v1/admin/instance-blocks`.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::json::{ts, UserJson};
use super::{ApiResult, ApiUser};
use crate::forum::instance_blocks::BlockedInstance;
use crate::state::AppState;

#[derive(Serialize)]
struct BlockJson {
    domain: String,
    reason: String,
    /// `configuration` (the file's `federation.blocked_instances`) or `administrator`.
    source: &'static str,
    created_by: Option<UserJson>,
    created_at: Option<String>,
}

fn block_json(b: &BlockedInstance, state: &AppState) -> BlockJson {
    BlockJson {
        domain: b.domain.clone(),
        reason: b.reason.clone(),
        source: if b.configured {
            "configuration"
        } else {
            "administrator"
        },
        created_by: b.by.as_ref().map(|u| UserJson::new(u, state.site.urls())),
        created_at: b.at.map(ts),
    }
}

/// GET /api/v1/admin/instance-blocks: every blocked server.
pub async fn list(state: web::Data<AppState>, me: ApiUser) -> ApiResult {
    let all = state.site.instance_blocks(me.user).await?;
    Ok(HttpResponse::Ok().json(
        all.iter()
            .map(|b| block_json(b, &state))
            .collect::<Vec<_>>(),
    ))
}

/// `POST /api/v1/admin/instance-blocks` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BlockBody {
    domain: String,
    reason: String,
}

/// POST /api/v1/admin/instance-blocks `{domain, reason?}`: blocks a server at once. 201 with
/// the list.
pub async fn block(
    state: web::Data<AppState>,
    me: ApiUser,
    body: web::Json<BlockBody>,
) -> ApiResult {
    let body = body.into_inner();
    state
        .site
        .block_instance(me.user.clone(), body.domain, body.reason)
        .await?;
    let all = state.site.instance_blocks(me.user).await?;
    Ok(HttpResponse::Created().json(
        all.iter()
            .map(|b| block_json(b, &state))
            .collect::<Vec<_>>(),
    ))
}

/// DELETE /api/v1/admin/instance-blocks/{domain}: unblocks a server an administrator blocked;
/// 204.
pub async fn unblock(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<String>,
) -> ApiResult {
    state
        .site
        .unblock_instance(me.user, path.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
