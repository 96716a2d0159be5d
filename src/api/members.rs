//! `/api/v1/forums/{name}/members`: who may read and post in a members-only forum. Listed to
//! those who may read it; added and removed by its moderators (people of this instance only).

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::json::{ts, ForumJson, UserJson};
use super::{ApiResult, ApiUser, MaybeApiUser};
use crate::forum::moderation::MemberList;
use crate::forum::Urls;
use crate::state::AppState;

/// One member.
#[derive(Serialize)]
struct MemberJson {
    person: UserJson,
    /// When they were let in.
    since: String,
}

/// A forum's members.
#[derive(Serialize)]
struct MembersJson {
    forum: ForumJson,
    members: Vec<MemberJson>,
}

fn members_json(list: &MemberList, urls: &Urls) -> MembersJson {
    MembersJson {
        forum: ForumJson::new(&list.forum, urls),
        members: list
            .members
            .iter()
            .map(|(m, u)| MemberJson {
                person: UserJson::new(u, urls),
                since: ts(m.created_at),
            })
            .collect(),
    }
}

/// GET /api/v1/forums/{name}/members
pub async fn list(
    state: web::Data<AppState>,
    me: MaybeApiUser,
    path: web::Path<String>,
) -> ApiResult {
    let viewer = me.0.map(|me| me.user);
    let list = state.site.members(viewer, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(members_json(&list, state.site.urls())))
}

/// PUT /api/v1/forums/{name}/members/{person}: lets a person of this instance in (the
/// forum's moderators). Answers the members.
pub async fn add(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (forum, person) = path.into_inner();
    let list = state.site.add_member(me.user, forum, person).await?;
    Ok(HttpResponse::Ok().json(members_json(&list, state.site.urls())))
}

/// DELETE /api/v1/forums/{name}/members/{person}: takes a person off the members (the forum's
/// moderators). Answers the members.
pub async fn remove(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (forum, person) = path.into_inner();
    let list = state.site.remove_member(me.user, forum, person).await?;
    Ok(HttpResponse::Ok().json(members_json(&list, state.site.urls())))
}
