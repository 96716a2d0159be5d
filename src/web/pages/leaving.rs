//! Leaving on the pages: `/settings/delete`, where a person deletes their own account.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::session::{end_session, redirect_with_notice, Viewer};
use super::super::views::FormErrors;
use super::super::{html, invalid_status, ok, Layout, PageError};
use crate::error::{FieldError, ForumError};

#[derive(Template)]
#[template(path = "leave.html")]
struct LeavePage<'a> {
    layout: &'a Layout,
    /// The choice made, kept when the form comes back.
    content: &'a str,
    errors: FormErrors,
}

/// The form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LeaveForm {
    csrf_token: String,
    password: String,
    /// `anonymise` or `remove`.
    content: String,
}

/// GET /settings/delete
pub async fn form(viewer: Viewer) -> Result<HttpResponse, PageError> {
    viewer.require_user("/settings/delete")?;
    let layout = viewer.layout("Delete your account");
    ok(&LeavePage {
        layout: &layout,
        content: "",
        errors: FormErrors::default(),
    })
}

/// POST /settings/delete
pub async fn delete(viewer: Viewer, form: web::Form<LeaveForm>) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user("/settings/delete")?;
    let show_again = |status: StatusCode, errors: Vec<FieldError>| {
        let layout = viewer.layout("Delete your account");
        html(
            status,
            &LeavePage {
                layout: &layout,
                content: &form.content,
                errors: FormErrors(errors),
            },
        )
    };
    let result = viewer
        .site
        .delete_account(user, form.password.clone(), form.content.clone())
        .await;
    match result {
        Ok(()) => {
            let mut res = redirect_with_notice(
                &viewer.site,
                "/",
                "Your account is deleted. Thank you for everything you shared here.",
            );
            end_session(&viewer.site, &mut res).map_err(|e| {
                viewer.error(ForumError::Internal(format!("ending the session: {e}")))
            })?;
            Ok(res)
        }
        Err(ForumError::Invalid(invalid)) => {
            Ok(show_again(invalid_status(&invalid), invalid.fields))
        }
        Err(ForumError::RateLimited { retry_after_secs }) => Ok(show_again(
            StatusCode::TOO_MANY_REQUESTS,
            vec![FieldError {
                field: "password",
                message: format!(
                    "Too many wrong passwords. Try again in {} minutes.",
                    retry_after_secs.div_ceil(60)
                ),
            }],
        )),
        Err(e) => Err(viewer.error(e)),
    }
}
