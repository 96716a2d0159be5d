//! A thread and its posts: reading, replying, quoting, editing, deleting, revisions.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::session::{redirect_with_notice, PendingViewer, Viewer};
use super::super::views::{FormErrors, ForumItem, Pager, PostItem, UserLink, When};
use super::super::{html, ok, Layout, PageError};
use super::accounts::{login_to_keep, CsrfOnly, Draft};
use super::PageQuery;
use crate::error::ForumError;
use crate::forum::accounts::SessionKind;
use crate::forum::threads::{PostContext, PostEdit, PostView};

#[derive(Template)]
#[template(path = "thread.html")]
struct ThreadPage<'a> {
    layout: &'a Layout,
    thread_id: i64,
    title: &'a str,
    pinned: bool,
    forum: ForumItem,
    opening: PostItem,
    replies: Vec<PostItem>,
    reply_count: i64,
    pager: Pager,
    can_reply: bool,
    logged_in: bool,
    moderates: bool,
    /// Why the viewer may not post here, when banned.
    banned: Option<&'a str>,
    locked: Option<LockItem>,
    watching: bool,
}

/// Who locked a thread, and when.
struct LockItem {
    by: Option<UserLink>,
    at: When,
}

#[derive(Template)]
#[template(path = "reply.html")]
struct ReplyPage<'a> {
    layout: &'a Layout,
    thread_id: i64,
    title: &'a str,
    answering: Option<PostItem>,
    body: &'a str,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "edit_post.html")]
struct EditPage<'a> {
    layout: &'a Layout,
    post: PostItem,
    title: Option<&'a str>,
    body: &'a str,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "delete_post.html")]
struct DeletePage<'a> {
    layout: &'a Layout,
    post: PostItem,
    thread_title: &'a str,
}

/// One earlier version, for the revisions page.
struct RevisionItem {
    number: usize,
    title: Option<String>,
    html: String,
    written: When,
    replaced: When,
}

#[derive(Template)]
#[template(path = "revisions.html")]
struct RevisionsPage<'a> {
    layout: &'a Layout,
    post: PostItem,
    thread_title: &'a str,
    revisions: Vec<RevisionItem>,
}

fn item(ctx: &PostContext, viewer: &Viewer) -> PostItem {
    PostItem::new(
        &PostView {
            post: ctx.post.clone(),
            author: (&ctx.author).into(),
            in_reply_to: None,
        },
        viewer.user.as_ref(),
        !ctx.forum.archived,
    )
}

/// GET /t/{id}
pub async fn thread(
    pending: PendingViewer,
    path: web::Path<i64>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    // A reader's session is looked up with the page: one round trip for both.
    let found = pending
        .site()
        .thread_page_with_session(
            path.into_inner(),
            q.page,
            pending.token.clone(),
            SessionKind::Web,
        )
        .await;
    let (viewer, page) = match found {
        Ok((session, page)) => (pending.with(session), page),
        // The error page shows who is logged in, as every page does.
        Err(e) => return Err(pending.resolve().await?.error(e)),
    };
    // Replies are taken in an open forum, in a thread that is not locked (or from moderators).
    let open = !page.forum.archived
        && (page.thread.locked_at.is_none() || page.viewer_moderates)
        && page.viewer_banned.is_none();
    let me = viewer.user.as_ref();
    let shown = |view: &crate::forum::threads::PostView| {
        let mut item = PostItem::new(view, me, open);
        item.marked_helpful = page.marked_helpful.contains(&view.post.id);
        if page.viewer_moderates {
            item = item.for_moderator(&view.post);
        }
        item
    };
    let layout = viewer
        .layout(page.thread.title.clone())
        .hidden_if_members_only(&page.forum);
    let base = format!("/t/{}", page.thread.id);
    viewer.shared_if_anonymous(ok(&ThreadPage {
        layout: &layout,
        thread_id: page.thread.id,
        title: &page.thread.title,
        pinned: page.thread.pinned,
        forum: ForumItem::from(&page.forum),
        opening: shown(&page.posts.opening),
        replies: page.posts.replies.iter().map(shown).collect(),
        reply_count: page.thread.reply_count,
        pager: Pager::new(&base, &page.paging),
        can_reply: me.is_some() && open,
        logged_in: me.is_some(),
        moderates: page.viewer_moderates,
        banned: page.viewer_banned.as_deref(),
        locked: page.thread.locked_at.map(|at| LockItem {
            by: page.locked_by.as_ref().map(UserLink::from),
            at: When::new(at),
        }),
        watching: page.viewer_watches,
    }))
}

/// `?to=POST&quote=1`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplyQuery {
    to: Option<i64>,
    quote: Option<u8>,
}

/// GET /t/{id}/reply: the reply form, answering (and optionally quoting) one post.
pub async fn reply_form(
    viewer: Viewer,
    path: web::Path<i64>,
    q: web::Query<ReplyQuery>,
) -> Result<HttpResponse, PageError> {
    let thread_id = path.into_inner();
    let back = match q.to {
        Some(to) => format!(
            "/t/{thread_id}/reply?to={to}{}",
            if q.quote.is_some() { "&quote=1" } else { "" }
        ),
        None => format!("/t/{thread_id}/reply"),
    };
    viewer.require_user(&back)?;
    let (answering, body, title) = match q.to {
        Some(to) => {
            let (ctx, quoted) = viewer
                .site
                .quote(to, viewer.user.clone())
                .await
                .map_err(|e| viewer.error(e))?;
            if ctx.thread.id != thread_id {
                return Err(viewer.error(ForumError::NotFound { what: "post" }));
            }
            crate::forum::forums::require_open(&ctx.forum).map_err(|e| viewer.error(e))?;
            let body = if q.quote.is_some() {
                quoted
            } else {
                String::new()
            };
            (Some(item(&ctx, &viewer)), body, ctx.thread.title.clone())
        }
        None => {
            let page = viewer
                .site
                .thread_page_for(thread_id, Some(1), viewer.user.clone())
                .await
                .map_err(|e| viewer.error(e))?;
            crate::forum::forums::require_open(&page.forum).map_err(|e| viewer.error(e))?;
            (None, String::new(), page.thread.title)
        }
    };
    let layout = viewer.layout(format!("Reply: {title}"));
    ok(&ReplyPage {
        layout: &layout,
        thread_id,
        title: &title,
        answering,
        body: &body,
        errors: FormErrors::default(),
    })
}

/// The reply form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplyForm {
    csrf_token: String,
    body: String,
    in_reply_to: String,
}

/// POST /t/{id}/reply
pub async fn reply(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<ReplyForm>,
) -> Result<HttpResponse, PageError> {
    let thread_id = path.into_inner();
    viewer
        .check_csrf(&form.csrf_token)
        .map_err(|e| e.keeping(&form.body))?;
    let Some(user) = viewer.user.clone() else {
        return Ok(login_to_keep(
            &viewer,
            Draft {
                draft_action: format!("/t/{thread_id}/reply"),
                draft_title: String::new(),
                draft_body: form.body.clone(),
                draft_in_reply_to: form.in_reply_to.clone(),
            },
        ));
    };
    let in_reply_to = match form.in_reply_to.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                return Err(PageError::new(
                    &viewer,
                    400,
                    "That did not work",
                    "The post being answered is not a valid post number.",
                )
                .keeping(&form.body))
            }
        },
    };
    let result = viewer
        .site
        .reply(user, thread_id, form.body.clone(), in_reply_to)
        .await;
    match result {
        Ok(post) => to_post(&viewer, post.id, "Your reply is posted.").await,
        Err(ForumError::Invalid(invalid)) => {
            let answering = match in_reply_to {
                Some(id) => viewer
                    .site
                    .post(id, viewer.user.clone())
                    .await
                    .ok()
                    .filter(|c| c.thread.id == thread_id),
                None => None,
            };
            let title = match &answering {
                Some(c) => c.thread.title.clone(),
                None => {
                    viewer
                        .site
                        .thread_page_for(thread_id, Some(1), viewer.user.clone())
                        .await
                        .map_err(|e| viewer.error(e).keeping(&form.body))?
                        .thread
                        .title
                }
            };
            let layout = viewer.layout(format!("Reply: {title}"));
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ReplyPage {
                    layout: &layout,
                    thread_id,
                    title: &title,
                    answering: answering.as_ref().map(|c| item(c, &viewer)),
                    body: &form.body,
                    errors: FormErrors(invalid.fields),
                },
            ))
        }
        Err(e) => Err(viewer.error(e).keeping(&form.body)),
    }
}

/// Sends the educator to a post, on the right page of its thread, with a notice.
async fn to_post(viewer: &Viewer, post_id: i64, notice: &str) -> Result<HttpResponse, PageError> {
    let at = viewer
        .site
        .locate_post(post_id, viewer.user.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        &post_path(at.thread_id, at.page, at.post_id),
        notice,
    ))
}

fn post_path(thread_id: i64, page: u32, post_id: i64) -> String {
    if page > 1 {
        format!("/t/{thread_id}?page={page}#p{post_id}")
    } else {
        format!("/t/{thread_id}#p{post_id}")
    }
}

/// GET /p/{id}: to the post, on the right page of its thread.
pub async fn permalink(viewer: Viewer, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let at = viewer
        .site
        .locate_post(path.into_inner(), viewer.user.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", post_path(at.thread_id, at.page, at.post_id)))
        .finish())
}

/// GET /t/{id}/unread: the first post the reader has not seen (the thread's start for a
/// visitor, who is not followed).
pub async fn first_unread(viewer: Viewer, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let Some(user) = viewer.user.clone() else {
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", format!("/t/{id}")))
            .finish());
    };
    let at = viewer
        .site
        .first_unread(id, user)
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", post_path(at.thread_id, at.page, at.post_id)))
        .finish())
}

/// GET /p/{id}/edit
pub async fn edit_form(viewer: Viewer, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let user = viewer.require_user(&format!("/p/{id}/edit"))?;
    let ctx = viewer
        .site
        .post_to_edit(user, id)
        .await
        .map_err(|e| viewer.error(e))?;
    let layout = viewer.layout("Edit post");
    ok(&EditPage {
        layout: &layout,
        post: item(&ctx, &viewer),
        title: ctx.post.is_opening.then_some(ctx.thread.title.as_str()),
        body: &ctx.post.body_markdown,
        errors: FormErrors::default(),
    })
}

/// The edit form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditForm {
    csrf_token: String,
    title: Option<String>,
    body: String,
}

/// POST /p/{id}/edit
pub async fn edit(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<EditForm>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    viewer
        .check_csrf(&form.csrf_token)
        .map_err(|e| e.keeping(&form.body))?;
    let user = viewer.user.clone().ok_or_else(|| {
        PageError::new(
            &viewer,
            401,
            "Please log in",
            "Your session has ended. Log in, then edit the post again.",
        )
        .keeping(&form.body)
    })?;
    let edit = PostEdit {
        body: form.body.clone(),
        title: form.title.clone(),
    };
    match viewer.site.edit_post(user, id, edit).await {
        Ok(post) => to_post(&viewer, post.id, "Your changes are saved.").await,
        Err(ForumError::Invalid(invalid)) => {
            let ctx = viewer
                .site
                .post(id, viewer.user.clone())
                .await
                .map_err(|e| viewer.error(e))?;
            let layout = viewer.layout("Edit post");
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &EditPage {
                    layout: &layout,
                    post: item(&ctx, &viewer),
                    title: ctx
                        .post
                        .is_opening
                        .then(|| form.title.as_deref().unwrap_or("")),
                    body: &form.body,
                    errors: FormErrors(invalid.fields),
                },
            ))
        }
        Err(e) => Err(viewer.error(e).keeping(&form.body)),
    }
}

/// GET /p/{id}/delete: asks before deleting.
pub async fn delete_form(viewer: Viewer, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let user = viewer.require_user(&format!("/p/{id}/delete"))?;
    let ctx = viewer
        .site
        .post_to_delete(user, id)
        .await
        .map_err(|e| viewer.error(e))?;
    let layout = viewer.layout("Delete post");
    ok(&DeletePage {
        layout: &layout,
        post: item(&ctx, &viewer),
        thread_title: &ctx.thread.title,
    })
}

/// POST /p/{id}/delete
pub async fn delete(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user(&format!("/p/{id}/delete"))?;
    let post = viewer
        .site
        .delete_post(user, id)
        .await
        .map_err(|e| viewer.error(e))?;
    to_post(&viewer, post.id, "The post is deleted.").await
}

/// GET /p/{id}/revisions
pub async fn revisions(viewer: Viewer, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let history = viewer
        .site
        .post_history(path.into_inner(), viewer.user.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    let layout = viewer
        .layout(format!(
            "Earlier versions: {}",
            history.context.thread.title
        ))
        .hidden_if_members_only(&history.context.forum);
    ok(&RevisionsPage {
        layout: &layout,
        post: item(&history.context, &viewer),
        thread_title: &history.context.thread.title,
        revisions: history
            .revisions
            .iter()
            .enumerate()
            .map(|(i, r)| RevisionItem {
                number: i + 1,
                title: r.title.clone(),
                html: r.body_html.clone(),
                written: When::new(r.written_at),
                replaced: When::new(r.replaced_at),
            })
            .collect(),
    })
}

/// The helpful form: `mark` is `1` to mark, `0` to take the mark back.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HelpfulForm {
    csrf_token: String,
    mark: String,
}

/// POST /p/{id}/helpful
pub async fn helpful(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<HelpfulForm>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user(&format!("/p/{id}"))?;
    let (result, notice) = if form.mark == "0" {
        (
            viewer.site.unmark_helpful(user, id).await,
            "Mark taken back.",
        )
    } else {
        (viewer.site.mark_helpful(user, id).await, "Marked helpful.")
    };
    let post = result.map_err(|e| viewer.error(e))?;
    to_post(&viewer, post.id, notice).await
}
