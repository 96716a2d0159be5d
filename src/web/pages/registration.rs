//! Who may join and whom we talk to, on the pages (administrators): the applications waiting
//! for approval (`/admin/applications`), invitations (`/admin/invites`) and blocked servers
//! (`/admin/instances`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::session::{redirect_with_notice, Viewer};
use super::super::views::{end_day, FormErrors, UserLink, When};
use super::super::{html, invalid_status, Layout, PageError};
use super::admin::admin;
use crate::error::ForumError;
use crate::forum::registration::InviteView;

/// One application.
struct ApplicationItem {
    id: i64,
    person: UserLink,
    email: Option<String>,
    answer: String,
    at: When,
}

#[derive(Template)]
#[template(path = "applications.html")]
struct ApplicationsPage<'a> {
    layout: &'a Layout,
    applications: Vec<ApplicationItem>,
    /// Whether the instance takes applications (`registration.mode = "approval"`).
    approval: bool,
}

/// GET /admin/applications
pub async fn applications(viewer: Viewer) -> Result<HttpResponse, PageError> {
    let user = admin(&viewer, "/admin/applications")?;
    let waiting = viewer
        .site
        .applications(user)
        .await
        .map_err(|e| viewer.error(e))?;
    let layout = viewer.layout("Applications");
    Ok(html(
        StatusCode::OK,
        &ApplicationsPage {
            layout: &layout,
            applications: waiting
                .iter()
                .map(|a| ApplicationItem {
                    id: a.user.id,
                    person: UserLink::from(&a.user),
                    email: a.user.email.clone(),
                    answer: a.answer.clone(),
                    at: When::new(a.user.created_at),
                })
                .collect(),
            approval: viewer.site.settings().registration.mode
                == crate::config::RegistrationMode::Approval,
        },
    ))
}

/// A form that carries only its CSRF token.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ButtonForm {
    csrf_token: String,
}

/// POST /admin/applications/{id}/approve
pub async fn approve(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<ButtonForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let user = admin(&viewer, "/admin/applications")?;
    let approved = viewer
        .site
        .approve_application(user, path.into_inner())
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        "/admin/applications",
        &format!("{} can log in now.", approved.display_name),
    ))
}

/// POST /admin/applications/{id}/reject
pub async fn reject(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<ButtonForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let user = admin(&viewer, "/admin/applications")?;
    viewer
        .site
        .reject_application(user, path.into_inner())
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        "/admin/applications",
        "The application is turned down and its account deleted.",
    ))
}

/// One invitation in the list.
struct InviteItem {
    id: i64,
    note: String,
    by: Option<UserLink>,
    at: When,
    until: Option<When>,
    used: Option<(Option<UserLink>, When)>,
}

impl From<&InviteView> for InviteItem {
    fn from(v: &InviteView) -> InviteItem {
        InviteItem {
            id: v.invite.id,
            note: v.invite.note.clone(),
            by: v.created_by.as_ref().map(UserLink::from),
            at: When::new(v.invite.created_at),
            until: v.invite.expires_at.map(When::new),
            used: v
                .invite
                .used_at
                .map(|at| (v.used_by.as_ref().map(UserLink::from), When::new(at))),
        }
    }
}

/// The invitation form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteForm {
    csrf_token: String,
    note: String,
    /// `YYYY-MM-DD`: the invitation stops working as that day begins (UTC); empty: when used.
    expires_on: String,
}

#[derive(Template)]
#[template(path = "invites.html")]
struct InvitesPage<'a> {
    layout: &'a Layout,
    invites: Vec<InviteItem>,
    /// The link just made, shown once.
    made: Option<String>,
    form: &'a InviteForm,
    errors: FormErrors,
    /// Whether the instance registers by invitation (`registration.mode = "invite"`).
    invite_mode: bool,
}

async fn invites_page(
    viewer: &Viewer,
    status: StatusCode,
    made: Option<String>,
    form: &InviteForm,
    errors: FormErrors,
) -> Result<HttpResponse, PageError> {
    let user = admin(viewer, "/admin/invites")?;
    let all = viewer
        .site
        .invites(user)
        .await
        .map_err(|e| viewer.error(e))?;
    let layout = viewer.layout("Invitations");
    Ok(html(
        status,
        &InvitesPage {
            layout: &layout,
            invites: all.iter().map(InviteItem::from).collect(),
            made,
            form,
            errors,
            invite_mode: viewer.site.settings().registration.mode
                == crate::config::RegistrationMode::Invite,
        },
    ))
}

/// GET /admin/invites
pub async fn invites(viewer: Viewer) -> Result<HttpResponse, PageError> {
    let form = InviteForm::default();
    invites_page(&viewer, StatusCode::OK, None, &form, FormErrors::default()).await
}

/// POST /admin/invites: makes one, and shows its link this once.
pub async fn create_invite(
    viewer: Viewer,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let user = admin(&viewer, "/admin/invites")?;
    let expires_at = match end_day(&form.expires_on, "the invitation") {
        Ok(at) => at,
        Err(errors) => {
            return invites_page(
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                &form,
                errors,
            )
            .await;
        }
    };
    match viewer
        .site
        .create_invite(user, form.note.clone(), expires_at)
        .await
    {
        Ok(made) => {
            let empty = InviteForm::default();
            invites_page(
                &viewer,
                StatusCode::CREATED,
                Some(made.url),
                &empty,
                FormErrors::default(),
            )
            .await
        }
        Err(ForumError::Invalid(invalid)) => {
            let status = invalid_status(&invalid);
            invites_page(&viewer, status, None, &form, FormErrors(invalid.fields)).await
        }
        Err(e) => Err(viewer.error(e)),
    }
}

/// POST /admin/invites/{id}/revoke
pub async fn revoke_invite(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<ButtonForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let user = admin(&viewer, "/admin/invites")?;
    viewer
        .site
        .revoke_invite(user, path.into_inner())
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        "/admin/invites",
        "The invitation is withdrawn.",
    ))
}

/// One blocked server.
struct BlockItem {
    domain: String,
    reason: String,
    by: Option<UserLink>,
    at: Option<When>,
    configured: bool,
}

/// The block form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BlockForm {
    csrf_token: String,
    domain: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "instances.html")]
struct InstancesPage<'a> {
    layout: &'a Layout,
    blocks: Vec<BlockItem>,
    form: &'a BlockForm,
    errors: FormErrors,
}

async fn instances_page(
    viewer: &Viewer,
    status: StatusCode,
    form: &BlockForm,
    errors: FormErrors,
) -> Result<HttpResponse, PageError> {
    let user = admin(viewer, "/admin/instances")?;
    let all = viewer
        .site
        .instance_blocks(user)
        .await
        .map_err(|e| viewer.error(e))?;
    let layout = viewer.layout("Blocked servers");
    Ok(html(
        status,
        &InstancesPage {
            layout: &layout,
            blocks: all
                .into_iter()
                .map(|b| BlockItem {
                    by: b.by.as_ref().map(UserLink::from),
                    at: b.at.map(When::new),
                    domain: b.domain,
                    reason: b.reason,
                    configured: b.configured,
                })
                .collect(),
            form,
            errors,
        },
    ))
}

/// GET /admin/instances: the servers this instance does not federate with.
pub async fn instances(viewer: Viewer) -> Result<HttpResponse, PageError> {
    let form = BlockForm::default();
    instances_page(&viewer, StatusCode::OK, &form, FormErrors::default()).await
}

/// POST /admin/instances: blocks a server.
pub async fn block_instance(
    viewer: Viewer,
    form: web::Form<BlockForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let user = admin(&viewer, "/admin/instances")?;
    match viewer
        .site
        .block_instance(user, form.domain.clone(), form.reason.clone())
        .await
    {
        Ok(domain) => Ok(redirect_with_notice(
            &viewer.site,
            "/admin/instances",
            &format!("{domain} is blocked: nothing more is taken from it or sent to it."),
        )),
        Err(ForumError::Invalid(invalid)) => {
            let status = invalid_status(&invalid);
            instances_page(&viewer, status, &form, FormErrors(invalid.fields)).await
        }
        Err(e) => Err(viewer.error(e)),
    }
}

/// The unblock button's form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UnblockForm {
    csrf_token: String,
    domain: String,
}

/// POST /admin/instances/unblock
pub async fn unblock_instance(
    viewer: Viewer,
    form: web::Form<UnblockForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let user = admin(&viewer, "/admin/instances")?;
    viewer
        .site
        .unblock_instance(user, form.domain.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        "/admin/instances",
        &format!("{} is unblocked.", form.domain.trim()),
    ))
}
