//! Bans on the pages: a forum's bans (`/f/{name}/bans`, its moderators) and the instance's
//! (`/admin/bans`, administrators), each a list with a form to ban and a button to lift; and
//! moving a thread to another forum (`/t/{id}/move`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::session::{redirect_with_notice, Viewer};
use super::super::views::{end_day, FormErrors, UserLink, When};
use super::super::{html, invalid_status, Layout, PageError};
use crate::error::ForumError;
use crate::forum::moderation::{BanRequest, BanView};
use crate::state::AppState;

/// One ban in the list.
struct BanLine {
    person: UserLink,
    reason: String,
    since: When,
    /// `None`: until lifted.
    until: Option<When>,
}

impl From<&BanView> for BanLine {
    fn from(view: &BanView) -> BanLine {
        BanLine {
            person: UserLink::from(&view.person),
            reason: view.ban.reason.clone(),
            since: When::new(view.ban.created_at),
            until: view.ban.expires_at.map(When::new),
        }
    }
}

/// What the ban form holds.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BanForm {
    csrf_token: String,
    person: String,
    reason: String,
    /// `YYYY-MM-DD` (the ban ends as that day begins, UTC), or empty: until lifted.
    expires_on: String,
    /// `on` when ticked.
    remove_content: String,
}

#[derive(Template)]
#[template(path = "bans.html")]
struct BansPage<'a> {
    layout: &'a Layout,
    /// Where the forms post: `/f/{name}/bans` or `/admin/bans`.
    base: &'a str,
    /// The forum's title and path; `None` for the instance.
    forum: Option<(String, String)>,
    bans: Vec<BanLine>,
    form: &'a BanForm,
    errors: FormErrors,
}

/// Where bans are made: a forum (by name) or the instance.
fn base_of(forum: Option<&str>) -> String {
    match forum {
        Some(name) => format!("/f/{name}/bans"),
        None => "/admin/bans".into(),
    }
}

async fn bans_page(
    viewer: &Viewer,
    forum_name: Option<String>,
    status: StatusCode,
    form: &BanForm,
    errors: FormErrors,
) -> Result<HttpResponse, PageError> {
    let base = base_of(forum_name.as_deref());
    let user = viewer.require_user(&base)?;
    let (forum, bans) = viewer
        .site
        .bans(user, forum_name)
        .await
        .map_err(|e| viewer.error(e))?;
    let title = match &forum {
        Some(f) => format!("Bans: {}", f.title),
        None => "Bans from this instance".to_string(),
    };
    let layout = viewer.layout(title);
    Ok(html(
        status,
        &BansPage {
            layout: &layout,
            base: &base,
            forum: forum
                .as_ref()
                .map(|f| (f.title.clone(), format!("/f/{}", f.handle()))),
            bans: bans.iter().map(BanLine::from).collect(),
            form,
            errors,
        },
    ))
}

/// GET /f/{name}/bans: the forum's bans, with a form to ban (its moderators).
pub async fn forum_bans(
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let form = BanForm::default();
    bans_page(
        &viewer,
        Some(path.into_inner()),
        StatusCode::OK,
        &form,
        FormErrors::default(),
    )
    .await
}

/// GET /admin/bans: the instance's bans, with a form to ban (administrators).
pub async fn instance_bans(viewer: Viewer) -> Result<HttpResponse, PageError> {
    let form = BanForm::default();
    bans_page(&viewer, None, StatusCode::OK, &form, FormErrors::default()).await
}

/// POST /f/{name}/bans
pub async fn ban_in_forum(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<BanForm>,
) -> Result<HttpResponse, PageError> {
    ban(viewer, &state, Some(path.into_inner()), form.into_inner()).await
}

/// POST /admin/bans
pub async fn ban_from_instance(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<BanForm>,
) -> Result<HttpResponse, PageError> {
    ban(viewer, &state, None, form.into_inner()).await
}

async fn ban(
    viewer: Viewer,
    state: &AppState,
    forum: Option<String>,
    form: BanForm,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let base = base_of(forum.as_deref());
    let user = viewer.require_user(&base)?;
    let expires_at = match end_day(&form.expires_on, "the ban") {
        Ok(at) => at,
        Err(errors) => {
            return bans_page(
                &viewer,
                forum,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                errors,
            )
            .await;
        }
    };
    let request = BanRequest {
        person: form.person.clone(),
        reason: form.reason.clone(),
        expires_at,
        remove_content: form.remove_content == "on",
    };
    match viewer
        .site
        .ban(user, forum.clone(), request, state.resolver.as_deref())
        .await
    {
        Ok(view) => Ok(redirect_with_notice(
            &viewer.site,
            &base,
            &format!("{} is banned.", view.person.display_name),
        )),
        Err(ForumError::Invalid(invalid)) => {
            let status = invalid_status(&invalid);
            bans_page(&viewer, forum, status, &form, FormErrors(invalid.fields)).await
        }
        Err(e) => Err(viewer.error(e)),
    }
}

/// The lift button's form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LiftForm {
    csrf_token: String,
    person: String,
}

/// POST /f/{name}/bans/lift
pub async fn lift_in_forum(
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<LiftForm>,
) -> Result<HttpResponse, PageError> {
    lift(viewer, Some(path.into_inner()), form.into_inner()).await
}

/// POST /admin/bans/lift
pub async fn lift_from_instance(
    viewer: Viewer,
    form: web::Form<LiftForm>,
) -> Result<HttpResponse, PageError> {
    lift(viewer, None, form.into_inner()).await
}

async fn lift(
    viewer: Viewer,
    forum: Option<String>,
    form: LiftForm,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let base = base_of(forum.as_deref());
    let user = viewer.require_user(&base)?;
    let view = viewer
        .site
        .unban(user, forum, &form.person)
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        &base,
        &format!("The ban on {} is lifted.", view.person.display_name),
    ))
}

#[derive(Template)]
#[template(path = "move.html")]
struct MovePage<'a> {
    layout: &'a Layout,
    thread_id: i64,
    thread_title: &'a str,
    /// The forums it can go to: name and title.
    forums: Vec<(String, String)>,
    chosen: &'a str,
    reason: &'a str,
    errors: FormErrors,
}

async fn move_page(
    viewer: &Viewer,
    id: i64,
    status: StatusCode,
    chosen: &str,
    reason: &str,
    errors: FormErrors,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require_user(&format!("/t/{id}/move"))?;
    let (thread, forum) = viewer
        .site
        .thread_to_moderate(user, id)
        .await
        .map_err(|e| viewer.error(e))?;
    let forums = viewer
        .site
        .forums(viewer.user.clone())
        .await
        .map_err(|e| viewer.error(e))?
        .into_iter()
        .filter(|f| f.local && !f.archived && f.id != forum.id)
        .map(|f| (f.name, f.title))
        .collect();
    let layout = viewer.layout(format!("Move {}", thread.title));
    Ok(html(
        status,
        &MovePage {
            layout: &layout,
            thread_id: id,
            thread_title: &thread.title,
            forums,
            chosen,
            reason,
            errors,
        },
    ))
}

/// GET /t/{id}/move: the form that moves a thread to another forum (moderators of both).
pub async fn move_form(viewer: Viewer, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    move_page(&viewer, id, StatusCode::OK, "", "", FormErrors::default()).await
}

/// The move form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MoveForm {
    csrf_token: String,
    forum: String,
    reason: String,
}

/// POST /t/{id}/move
pub async fn move_thread(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<MoveForm>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user(&format!("/t/{id}/move"))?;
    match viewer
        .site
        .move_thread(user, id, form.forum.clone(), form.reason.clone())
        .await
    {
        Ok(_) => Ok(redirect_with_notice(
            &viewer.site,
            &format!("/t/{id}"),
            "The thread is moved.",
        )),
        Err(ForumError::Invalid(invalid)) => {
            let status = invalid_status(&invalid);
            move_page(
                &viewer,
                id,
                status,
                &form.forum,
                &form.reason,
                FormErrors(invalid.fields),
            )
            .await
        }
        Err(e) => Err(viewer.error(e)),
    }
}
