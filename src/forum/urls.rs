//! Canonical URLs: one per account, forum, thread and post. Local ones derive from
//! `server.public_url`; remote rows carry their own ActivityPub id.

use crate::config::Settings;
use crate::db::forums::Forum;
use crate::db::posts::Post;
use crate::db::threads::Thread;
use crate::db::users::{Author, User};

/// Builds absolute URLs from `server.public_url`.
#[derive(Debug, Clone)]
pub struct Urls {
    base: String,
}

impl Urls {
    /// Reads the base from the settings.
    pub fn new(settings: &Settings) -> Urls {
        Urls {
            base: settings.base_url(),
        }
    }

    /// The public base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// An absolute URL for a local path starting with `/`.
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `/u/{name}`.
    pub fn user(&self, user: &User) -> String {
        self.person(&user.name, user.local, user.ap_id.as_deref())
    }

    /// [`Urls::user`] for an [`Author`].
    pub fn author(&self, author: &Author) -> String {
        self.person(&author.name, author.local, author.ap_id.as_deref())
    }

    fn person(&self, name: &str, local: bool, ap_id: Option<&str>) -> String {
        match ap_id {
            Some(id) if !local => id.to_owned(),
            _ => self.absolute(&format!("/u/{name}")),
        }
    }

    /// `/f/{name}`.
    pub fn forum(&self, forum: &Forum) -> String {
        match &forum.ap_id {
            Some(id) if !forum.local => id.clone(),
            _ => self.absolute(&format!("/f/{}", forum.name)),
        }
    }

    /// `/t/{id}`.
    pub fn thread(&self, thread: &Thread) -> String {
        match &thread.ap_id {
            Some(id) if !thread.local => id.clone(),
            _ => self.absolute(&format!("/t/{}", thread.id)),
        }
    }

    /// `/p/{id}` (an opening post is its thread, `/t/{thread_id}`).
    pub fn post(&self, post: &Post) -> String {
        match &post.ap_id {
            Some(id) if !post.local => id.clone(),
            _ if post.is_opening => self.absolute(&format!("/t/{}", post.thread_id)),
            _ => self.absolute(&format!("/p/{}", post.id)),
        }
    }
}
