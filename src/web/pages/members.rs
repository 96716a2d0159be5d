//! A members-only forum's members on the pages (`/f/{name}/members`): the list for those who
//! may read the forum, with a form to add and buttons to remove for its moderators.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::session::{redirect_with_notice, Viewer};
use super::super::views::{FormErrors, ForumItem, UserLink, When};
use super::super::{html, invalid_status, Layout, PageError};
use crate::error::ForumError;

/// One member in the list.
struct MemberLine {
    person: UserLink,
    since: When,
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage<'a> {
    layout: &'a Layout,
    forum: ForumItem,
    all_accounts: bool,
    members: Vec<MemberLine>,
    manages: bool,
    person: &'a str,
    errors: FormErrors,
}

/// The add and remove forms.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MemberForm {
    csrf_token: String,
    person: String,
}

async fn members_page(
    viewer: &Viewer,
    name: String,
    status: StatusCode,
    person: &str,
    errors: FormErrors,
) -> Result<HttpResponse, PageError> {
    let list = viewer
        .site
        .members(viewer.user.clone(), name)
        .await
        .map_err(|e| viewer.error(e))?;
    let layout = viewer
        .layout(format!("Members: {}", list.forum.title))
        .hidden_if_members_only(&list.forum);
    Ok(html(
        status,
        &MembersPage {
            layout: &layout,
            forum: ForumItem::from(&list.forum),
            all_accounts: list.forum.all_accounts_are_members,
            members: list
                .members
                .iter()
                .map(|(m, u)| MemberLine {
                    person: UserLink::from(u),
                    since: When::new(m.created_at),
                })
                .collect(),
            manages: list.viewer_manages,
            person,
            errors,
        },
    ))
}

/// GET /f/{name}/members
pub async fn members(viewer: Viewer, path: web::Path<String>) -> Result<HttpResponse, PageError> {
    members_page(
        &viewer,
        path.into_inner(),
        StatusCode::OK,
        "",
        FormErrors::default(),
    )
    .await
}

/// A form sent to `/f/{name}/members...`, checked: the forum's name, its members page and who
/// sent it.
fn acting(
    viewer: &Viewer,
    path: web::Path<String>,
    form: &MemberForm,
) -> Result<(String, String, crate::forum::User), PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let name = path.into_inner();
    let back = format!("/f/{name}/members");
    let user = viewer.require_user(&back)?;
    Ok((name, back, user))
}

/// POST /f/{name}/members: adds a member (the forum's moderators).
pub async fn add(
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<MemberForm>,
) -> Result<HttpResponse, PageError> {
    let (name, back, user) = acting(&viewer, path, &form)?;
    match viewer
        .site
        .add_member(user, name.clone(), form.person.clone())
        .await
    {
        Ok(_) => Ok(redirect_with_notice(
            &viewer.site,
            &back,
            &format!("{} is a member now.", form.person.trim()),
        )),
        Err(ForumError::Invalid(invalid)) => {
            let status = invalid_status(&invalid);
            members_page(
                &viewer,
                name,
                status,
                &form.person,
                FormErrors(invalid.fields),
            )
            .await
        }
        Err(e) => Err(viewer.error(e)),
    }
}

/// POST /f/{name}/members/remove: takes a member off (the forum's moderators).
pub async fn remove(
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<MemberForm>,
) -> Result<HttpResponse, PageError> {
    let (name, back, user) = acting(&viewer, path, &form)?;
    viewer
        .site
        .remove_member(user, name, form.person.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        &back,
        &format!("{} is no longer a member.", form.person.trim()),
    ))
}
