//! Moderation through the API: a forum's moderators (`/api/v1/forums/{name}/moderators`), its
//! moderation log (`/api/v1/forums/{name}/modlog`), and removing and restoring posts
//! (`/api/v1/posts/{id}/remove`, `/restore`), and bans from a forum
//! (`/api/v1/forums/{name}/bans`) or the instance (`/api/v1/admin/bans`). Locking, pinning and
//! moving are fields of `PATCH /api/v1/threads/{id}`.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::json::{ts, PagingJson, PostJson, UserJson};
use super::{ApiResult, ApiUser, MaybeApiUser, PageQuery};
use crate::forum::moderation::{BanRequest, BanView, LogItem, Moderators, Outcome, ReportView};
use crate::forum::Urls;
use crate::state::AppState;

fn moderators_json(m: &Moderators, urls: &Urls) -> Vec<UserJson> {
    m.moderators
        .iter()
        .map(|u| UserJson::new(u, urls))
        .collect()
}

/// GET /api/v1/forums/{name}/moderators: who moderates a forum of this instance.
pub async fn list(
    state: web::Data<AppState>,
    me: MaybeApiUser,
    path: web::Path<String>,
) -> ApiResult {
    let viewer = me.0.map(|me| me.user);
    let m = state.site.moderators(path.into_inner(), viewer).await?;
    Ok(HttpResponse::Ok().json(moderators_json(&m, state.site.urls())))
}

/// PUT /api/v1/forums/{name}/moderators/{person}: appoints a person (`name`, or
/// `name@domain` for someone elsewhere) as a moderator (administrators). Answers the list.
pub async fn appoint(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (forum, person) = path.into_inner();
    let m = state
        .site
        .appoint_moderator(me.user, forum, &person, state.resolver.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(moderators_json(&m, state.site.urls())))
}

/// DELETE /api/v1/forums/{name}/moderators/{person}: takes a person off the forum's
/// moderators (administrators). Answers the list.
pub async fn dismiss(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (forum, person) = path.into_inner();
    let m = state
        .site
        .dismiss_moderator(me.user, forum, &person)
        .await?;
    Ok(HttpResponse::Ok().json(moderators_json(&m, state.site.urls())))
}

/// The thread a log entry names.
#[derive(Serialize)]
struct LoggedThreadJson {
    id: i64,
    title: String,
    url: String,
}

/// One entry of the moderation log.
#[derive(Serialize)]
struct LogEntryJson {
    id: i64,
    /// `lock`, `unlock`, `pin`, `unpin`, `appoint`, `dismiss`, `remove`, `restore`, `ban`,
    /// `unban`, `move`, `resolve`, `dismiss_report`, `add_member`, `remove_member`,
    /// `members_only`, `public`.
    action: String,
    /// Who acted: null when the instance hides moderators' names from this reader.
    moderator: Option<UserJson>,
    thread: Option<LoggedThreadJson>,
    /// The post removed or restored.
    post_id: Option<i64>,
    person: Option<UserJson>,
    reason: String,
    created_at: String,
}

#[derive(Serialize)]
struct LogJson {
    entries: Vec<LogEntryJson>,
    paging: PagingJson,
}

fn entry_json(item: &LogItem, urls: &Urls) -> LogEntryJson {
    LogEntryJson {
        id: item.entry.id,
        action: item.entry.action.clone(),
        moderator: item.moderator.as_ref().map(|u| UserJson::new(u, urls)),
        thread: item.thread.as_ref().map(|t| LoggedThreadJson {
            id: t.id,
            title: t.title.clone(),
            url: urls.thread(t),
        }),
        post_id: item.entry.post_id,
        person: item.person.as_ref().map(|u| UserJson::new(u, urls)),
        reason: item.entry.reason.clone(),
        created_at: ts(item.entry.created_at),
    }
}

/// GET /api/v1/forums/{name}/modlog?page=N: the forum's moderation log, newest first.
pub async fn log(
    state: web::Data<AppState>,
    me: MaybeApiUser,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> ApiResult {
    let viewer = me.0.map(|m| m.user);
    let page = state
        .site
        .moderation_log(viewer, path.into_inner(), q.page)
        .await?;
    let urls = state.site.urls();
    Ok(HttpResponse::Ok().json(LogJson {
        entries: page.items.iter().map(|i| entry_json(i, urls)).collect(),
        paging: (&page.paging).into(),
    }))
}

/// GET /api/v1/modlog?page=N: the instance's own moderation log (bans from the whole instance).
pub async fn instance_log(
    state: web::Data<AppState>,
    me: MaybeApiUser,
    q: web::Query<PageQuery>,
) -> ApiResult {
    let viewer = me.0.map(|m| m.user);
    let page = state.site.instance_moderation_log(viewer, q.page).await?;
    let urls = state.site.urls();
    Ok(HttpResponse::Ok().json(LogJson {
        entries: page.items.iter().map(|i| entry_json(i, urls)).collect(),
        paging: (&page.paging).into(),
    }))
}

/// `POST /api/v1/posts/{id}/remove` and `/restore` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReasonBody {
    reason: String,
}

/// The post as its forum's moderators see it.
async fn moderated_post(state: &AppState, id: i64, me: crate::forum::User) -> ApiResult {
    let ctx = state.site.post(id, Some(me)).await?;
    Ok(HttpResponse::Ok().json(PostJson::shown(
        &ctx.post,
        &ctx.author,
        state.site.urls(),
        true,
    )))
}

/// POST /api/v1/posts/{id}/remove `{reason}`: removes a post (the forum's moderators; the
/// reason is required). Answers the post as moderators see it.
pub async fn remove(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<i64>,
    body: web::Json<ReasonBody>,
) -> ApiResult {
    let id = path.into_inner();
    state
        .site
        .remove_post(me.user.clone(), id, body.into_inner().reason)
        .await?;
    moderated_post(&state, id, me.user).await
}

/// POST /api/v1/posts/{id}/restore `{reason?}`: restores a removed post (the forum's
/// moderators).
pub async fn restore(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<i64>,
    body: Option<web::Json<ReasonBody>>,
) -> ApiResult {
    let id = path.into_inner();
    let reason = body.map(|b| b.into_inner().reason).unwrap_or_default();
    state.site.restore_post(me.user.clone(), id, reason).await?;
    moderated_post(&state, id, me.user).await
}

/// A ban, as the API shows it.
#[derive(Serialize)]
struct BanJson {
    id: i64,
    /// Who is banned.
    person: UserJson,
    /// The forum (`name` here, `name@domain` elsewhere); null for a ban from the instance.
    forum: Option<String>,
    reason: String,
    /// When it ends by itself; null: when lifted.
    expires_at: Option<String>,
    created_at: String,
}

fn ban_json(view: &BanView, urls: &Urls) -> BanJson {
    BanJson {
        id: view.ban.id,
        person: UserJson::new(&view.person, urls),
        forum: view.forum.as_ref().map(|f| f.handle()),
        reason: view.ban.reason.clone(),
        expires_at: view.ban.expires_at.map(ts),
        created_at: ts(view.ban.created_at),
    }
}

/// `POST /api/v1/forums/{name}/bans` and `/api/v1/admin/bans` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BanBody {
    /// `name` here, `name@domain` elsewhere.
    person: String,
    reason: String,
    /// RFC 3339; absent or null: until lifted.
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Also remove everything they posted there.
    remove_content: bool,
}

async fn ban_in(state: &AppState, me: ApiUser, forum: Option<String>, body: BanBody) -> ApiResult {
    let request = BanRequest {
        person: body.person,
        reason: body.reason,
        expires_at: body.expires_at.map(|at| at.naive_utc()),
        remove_content: body.remove_content,
    };
    let view = state
        .site
        .ban(me.user, forum, request, state.resolver.as_deref())
        .await?;
    Ok(HttpResponse::Created().json(ban_json(&view, state.site.urls())))
}

async fn bans_in(state: &AppState, me: ApiUser, forum: Option<String>) -> ApiResult {
    let (_, views) = state.site.bans(me.user, forum).await?;
    let urls = state.site.urls();
    Ok(HttpResponse::Ok().json(views.iter().map(|v| ban_json(v, urls)).collect::<Vec<_>>()))
}

/// POST /api/v1/forums/{name}/bans `{person, reason, expires_at?, remove_content?}`: bans a
/// person from the forum (its moderators). Answers 201 with the ban.
pub async fn ban(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<String>,
    body: web::Json<BanBody>,
) -> ApiResult {
    ban_in(&state, me, Some(path.into_inner()), body.into_inner()).await
}

/// GET /api/v1/forums/{name}/bans: the bans in force from the forum (its moderators).
pub async fn bans(state: web::Data<AppState>, me: ApiUser, path: web::Path<String>) -> ApiResult {
    bans_in(&state, me, Some(path.into_inner())).await
}

/// DELETE /api/v1/forums/{name}/bans/{person}: lifts a ban (the forum's moderators); 204.
pub async fn unban(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (forum, person) = path.into_inner();
    state.site.unban(me.user, Some(forum), &person).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST /api/v1/admin/bans `{person, reason, expires_at?, remove_content?}`: bans a person from
/// the whole instance (administrators). Answers 201 with the ban.
pub async fn ban_from_instance(
    state: web::Data<AppState>,
    me: ApiUser,
    body: web::Json<BanBody>,
) -> ApiResult {
    ban_in(&state, me, None, body.into_inner()).await
}

/// GET /api/v1/admin/bans: the bans in force from the whole instance (administrators).
pub async fn instance_bans(state: web::Data<AppState>, me: ApiUser) -> ApiResult {
    bans_in(&state, me, None).await
}

/// DELETE /api/v1/admin/bans/{person}: lifts a ban from the instance (administrators); 204.
pub async fn unban_from_instance(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<String>,
) -> ApiResult {
    state.site.unban(me.user, None, &path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A report, as the API shows it.
#[derive(Serialize)]
struct ReportJson {
    id: i64,
    /// The post reported (with its words, for moderators, even when removed).
    post: PostJson,
    thread: LoggedThreadJson,
    /// The forum (`name` here, `name@domain` elsewhere).
    forum: String,
    reporter: UserJson,
    reason: String,
    created_at: String,
    /// `null` while open; `resolved` or `dismissed`.
    outcome: Option<String>,
    closed_by: Option<UserJson>,
    closed_at: Option<String>,
}

fn report_json(view: &ReportView, urls: &Urls, moderator: bool) -> ReportJson {
    let ctx = &view.post;
    ReportJson {
        id: view.report.id,
        post: PostJson::shown(&ctx.post, &ctx.author, urls, moderator),
        thread: LoggedThreadJson {
            id: ctx.thread.id,
            title: ctx.thread.title.clone(),
            url: urls.thread(&ctx.thread),
        },
        forum: ctx.forum.handle(),
        reporter: UserJson::new(&view.reporter, urls),
        reason: view.report.reason.clone(),
        created_at: ts(view.report.created_at),
        outcome: view.report.outcome.clone(),
        closed_by: view.closed_by.as_ref().map(|u| UserJson::new(u, urls)),
        closed_at: view.report.closed_at.map(ts),
    }
}

/// POST /api/v1/posts/{id}/reports `{reason}`: reports a post to its forum's moderators
/// (anyone logged in; the reason is required). Answers 201 with the report.
pub async fn report(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<i64>,
    body: web::Json<ReasonBody>,
) -> ApiResult {
    let view = state
        .site
        .report_post(me.user, path.into_inner(), body.into_inner().reason)
        .await?;
    Ok(HttpResponse::Created().json(report_json(&view, state.site.urls(), false)))
}

/// `?state=open|closed&page=N`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    state: Option<String>,
    page: Option<u32>,
}

#[derive(Serialize)]
struct QueueJson {
    reports: Vec<ReportJson>,
    paging: PagingJson,
}

/// GET /api/v1/forums/{name}/reports?state=open|closed&page=N: the forum's report queue, newest
/// first: open reports, or those dealt with (the forum's moderators).
pub async fn reports(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<String>,
    q: web::Query<QueueQuery>,
) -> ApiResult {
    let open = match q.state.as_deref() {
        None | Some("open") => true,
        Some("closed") => false,
        Some(_) => {
            return Err(super::JsonError::new(
                422,
                "invalid_input",
                "state is `open` or `closed`.",
            ))
        }
    };
    let queue = state
        .site
        .report_queue(me.user, path.into_inner(), open, q.page)
        .await?;
    let urls = state.site.urls();
    Ok(HttpResponse::Ok().json(QueueJson {
        reports: queue
            .reports
            .iter()
            .map(|r| report_json(r, urls, true))
            .collect(),
        paging: (&queue.paging).into(),
    }))
}

async fn close(state: &AppState, me: ApiUser, id: i64, outcome: Outcome) -> ApiResult {
    let view = state.site.close_report(me.user, id, outcome).await?;
    Ok(HttpResponse::Ok().json(report_json(&view, state.site.urls(), true)))
}

/// POST /api/v1/reports/{id}/resolve: the report was acted on (the forum's moderators).
pub async fn resolve(state: web::Data<AppState>, me: ApiUser, path: web::Path<i64>) -> ApiResult {
    close(&state, me, path.into_inner(), Outcome::Resolved).await
}

/// POST /api/v1/reports/{id}/dismiss: there was nothing to act on (the forum's moderators).
pub async fn dismiss_report(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<i64>,
) -> ApiResult {
    close(&state, me, path.into_inner(), Outcome::Dismissed).await
}
