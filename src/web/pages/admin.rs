//! Administration: creating, editing and archiving forums, and appointing their moderators.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::session::{redirect_with_notice, Viewer};
use super::super::views::{FormErrors, ForumItem, UserLink};
use super::super::{html, invalid_status, Layout, PageError};
use crate::error::ForumError;
use crate::forum::forums::{ForumChanges, ForumForm};
use crate::forum::{require_admin, User};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage<'a> {
    layout: &'a Layout,
    forums: Vec<ForumItem>,
    name: &'a str,
    title: &'a str,
    description: &'a str,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "admin_forum.html")]
struct EditForumPage<'a> {
    layout: &'a Layout,
    forum: ForumItem,
    fields: Fields<'a>,
    errors: FormErrors,
    moderators: Vec<UserLink>,
    /// The appoint form's field, kept when it comes back with a mistake.
    person: &'a str,
    person_errors: FormErrors,
}

/// The edit-forum form's fields, as stored or as typed.
struct Fields<'a> {
    title: &'a str,
    description: &'a str,
    archived: bool,
    members_only: bool,
    all_accounts_are_members: bool,
    posting_restricted_to_mods: bool,
}

/// What the edit-forum page shows besides the forum: the fields as typed, and the appoint form.
#[derive(Default)]
struct EditState<'a> {
    fields: Option<Fields<'a>>,
    errors: FormErrors,
    person: &'a str,
    person_errors: FormErrors,
}

/// The edit-forum page, with the forum's moderators.
async fn edit_page(
    viewer: &Viewer,
    status: StatusCode,
    name: String,
    state: EditState<'_>,
) -> Result<HttpResponse, PageError> {
    let m = viewer
        .site
        .moderators(name, viewer.user.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    let forum = &m.forum;
    let fields = state.fields.unwrap_or(Fields {
        title: &forum.title,
        description: &forum.description,
        archived: forum.archived,
        members_only: forum.members_only(),
        all_accounts_are_members: forum.all_accounts_are_members,
        posting_restricted_to_mods: forum.posting_restricted_to_mods,
    });
    let layout = viewer.layout(format!("Edit {}", forum.title));
    Ok(html(
        status,
        &EditForumPage {
            layout: &layout,
            forum: ForumItem::from(forum),
            fields,
            errors: state.errors,
            moderators: m.moderators.iter().map(UserLink::from).collect(),
            person: state.person,
            person_errors: state.person_errors,
        },
    ))
}

pub(super) fn admin(viewer: &Viewer, back: &str) -> Result<User, PageError> {
    let user = viewer.require_user(back)?;
    require_admin(&user).map_err(|e| viewer.error(e))?;
    Ok(user)
}

async fn admin_page(
    viewer: &Viewer,
    status: StatusCode,
    form: &ForumFormFields,
    errors: FormErrors,
) -> Result<HttpResponse, PageError> {
    let forums = viewer
        .site
        .forums(viewer.user.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    let layout = viewer.layout("Administration");
    Ok(html(
        status,
        &AdminPage {
            layout: &layout,
            // Forums from elsewhere are run by their own servers.
            forums: forums
                .iter()
                .filter(|f| f.local)
                .map(ForumItem::from)
                .collect(),
            name: &form.name,
            title: &form.title,
            description: &form.description,
            errors,
        },
    ))
}

/// GET /admin
pub async fn index(viewer: Viewer) -> Result<HttpResponse, PageError> {
    admin(&viewer, "/admin")?;
    admin_page(
        &viewer,
        StatusCode::OK,
        &ForumFormFields::default(),
        FormErrors::default(),
    )
    .await
}

/// The new-forum form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ForumFormFields {
    csrf_token: String,
    name: String,
    title: String,
    description: String,
}

/// POST /admin/forums
pub async fn create_forum(
    viewer: Viewer,
    form: web::Form<ForumFormFields>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let user = admin(&viewer, "/admin")?;
    let result = viewer
        .site
        .create_forum(
            user,
            ForumForm {
                name: form.name.clone(),
                title: form.title.clone(),
                description: form.description.clone(),
            },
        )
        .await;
    match result {
        Ok(forum) => Ok(redirect_with_notice(
            &viewer.site,
            "/admin",
            &format!("The forum “{}” is created.", forum.title),
        )),
        Err(ForumError::Invalid(invalid)) => {
            admin_page(
                &viewer,
                invalid_status(&invalid),
                &form,
                FormErrors(invalid.fields),
            )
            .await
        }
        Err(e) => Err(viewer.error(e)),
    }
}

/// GET /admin/forums/{name}
pub async fn edit_forum_form(
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let name = path.into_inner();
    admin(&viewer, &format!("/admin/forums/{name}"))?;
    edit_page(&viewer, StatusCode::OK, name, EditState::default()).await
}

/// The edit-forum form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditForumFields {
    csrf_token: String,
    title: String,
    description: String,
    archived: Option<String>,
    /// `public` or `members`.
    visibility: String,
    all_accounts_are_members: Option<String>,
    posting_restricted_to_mods: Option<String>,
}

/// POST /admin/forums/{name}
pub async fn edit_forum(
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<EditForumFields>,
) -> Result<HttpResponse, PageError> {
    let name = path.into_inner();
    viewer.check_csrf(&form.csrf_token)?;
    let user = admin(&viewer, &format!("/admin/forums/{name}"))?;
    let archived = form.archived.is_some();
    let all_accounts_are_members = form.all_accounts_are_members.is_some();
    let posting_restricted_to_mods = form.posting_restricted_to_mods.is_some();
    let result = viewer
        .site
        .update_forum(
            user,
            name.clone(),
            ForumChanges {
                title: Some(form.title.clone()),
                description: Some(form.description.clone()),
                archived: Some(archived),
                // A form without the choice (an older page) keeps it as it is.
                visibility: Some(form.visibility.clone()).filter(|v| !v.is_empty()),
                all_accounts_are_members: Some(all_accounts_are_members),
                posting_restricted_to_mods: Some(posting_restricted_to_mods),
            },
        )
        .await;
    match result {
        Ok(forum) => Ok(redirect_with_notice(
            &viewer.site,
            "/admin",
            &format!("The forum “{}” is saved.", forum.title),
        )),
        Err(ForumError::Invalid(invalid)) => {
            edit_page(
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                name,
                EditState {
                    fields: Some(Fields {
                        title: &form.title,
                        description: &form.description,
                        archived,
                        members_only: form.visibility == "members",
                        all_accounts_are_members,
                        posting_restricted_to_mods,
                    }),
                    errors: FormErrors(invalid.fields),
                    ..EditState::default()
                },
            )
            .await
        }
        Err(e) => Err(viewer.error(e)),
    }
}

/// The appoint and remove-moderator forms.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ModeratorForm {
    csrf_token: String,
    person: String,
}

/// POST /admin/forums/{name}/moderators: appoints a moderator.
pub async fn appoint_moderator(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<ModeratorForm>,
) -> Result<HttpResponse, PageError> {
    let name = path.into_inner();
    viewer.check_csrf(&form.csrf_token)?;
    let user = admin(&viewer, &format!("/admin/forums/{name}"))?;
    let result = viewer
        .site
        .appoint_moderator(user, name.clone(), &form.person, state.resolver.as_deref())
        .await;
    match result {
        Ok(m) => Ok(redirect_with_notice(
            &viewer.site,
            &format!("/admin/forums/{name}"),
            &format!("{} now moderates “{}”.", form.person.trim(), m.forum.title),
        )),
        Err(ForumError::Invalid(invalid)) => {
            edit_page(
                &viewer,
                invalid_status(&invalid),
                name,
                EditState {
                    person: &form.person,
                    person_errors: FormErrors(invalid.fields),
                    ..EditState::default()
                },
            )
            .await
        }
        Err(e) => Err(viewer.error(e)),
    }
}

/// POST /admin/forums/{name}/moderators/remove: takes a moderator off the forum.
pub async fn dismiss_moderator(
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<ModeratorForm>,
) -> Result<HttpResponse, PageError> {
    let name = path.into_inner();
    viewer.check_csrf(&form.csrf_token)?;
    let user = admin(&viewer, &format!("/admin/forums/{name}"))?;
    let m = viewer
        .site
        .dismiss_moderator(user, name.clone(), &form.person)
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        &format!("/admin/forums/{name}"),
        &format!(
            "{} no longer moderates “{}”.",
            form.person.trim(),
            m.forum.title
        ),
    ))
}
