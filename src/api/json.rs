//! The JSON shapes of the API. Rows are never serialized directly: these are the wire types.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::forum::threads::PostView;
use crate::forum::{Author, Forum, Paging, Post, Revision, Thread, Urls, User};

/// A timestamp as the API writes it (RFC 3339, UTC).
pub fn ts(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A person.
#[derive(Debug, Serialize)]
pub struct UserJson {
    /// Username.
    pub name: String,
    /// Display name.
    pub display_name: String,
    /// Canonical URL.
    pub url: String,
    /// On this instance?
    pub local: bool,
    /// Administrator?
    pub is_admin: bool,
    /// When the account was created.
    pub created_at: String,
}

impl UserJson {
    /// From a row.
    pub fn new(u: &User, urls: &Urls) -> UserJson {
        UserJson::of(&Author::from(u), urls)
    }

    /// From an [`Author`].
    pub fn of(u: &Author, urls: &Urls) -> UserJson {
        UserJson {
            name: u.handle(),
            display_name: u.display_name.clone(),
            url: urls.author(u),
            local: u.local,
            is_admin: u.is_admin,
            created_at: ts(u.created_at),
        }
    }
}

/// A forum.
#[derive(Debug, Serialize)]
pub struct ForumJson {
    /// URL name.
    pub name: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Canonical URL.
    pub url: String,
    /// On this instance?
    pub local: bool,
    /// Read-only?
    pub archived: bool,
    /// `public`, or `members` (only members read it; never federated).
    pub visibility: String,
    /// Whether everyone with an account here is a member (of a members-only forum).
    pub all_accounts_are_members: bool,
    /// Only its moderators start threads (anyone may reply).
    pub posting_restricted_to_mods: bool,
    /// Threads.
    pub thread_count: i64,
    /// Posts.
    pub post_count: i64,
    /// Latest activity.
    pub last_activity_at: Option<String>,
    /// Creation time.
    pub created_at: String,
}

impl ForumJson {
    /// From a row.
    pub fn new(f: &Forum, urls: &Urls) -> ForumJson {
        ForumJson {
            name: f.handle(),
            title: f.title.clone(),
            description: f.description.clone(),
            url: urls.forum(f),
            local: f.local,
            archived: f.archived,
            visibility: f.visibility.clone(),
            all_accounts_are_members: f.all_accounts_are_members,
            posting_restricted_to_mods: f.posting_restricted_to_mods,
            thread_count: f.thread_count,
            post_count: f.post_count,
            last_activity_at: f.last_activity_at.map(ts),
            created_at: ts(f.created_at),
        }
    }
}

/// A thread (without its posts).
#[derive(Debug, Serialize)]
pub struct ThreadJson {
    /// Id.
    pub id: i64,
    /// Canonical URL.
    pub url: String,
    /// Title.
    pub title: String,
    /// The forum's name.
    pub forum: String,
    /// Who started it.
    pub author: UserJson,
    /// Pinned?
    pub pinned: bool,
    /// Locked (no new replies except from moderators)?
    pub locked: bool,
    /// When it was locked.
    pub locked_at: Option<String>,
    /// Replies.
    pub reply_count: i64,
    /// Started.
    pub created_at: String,
    /// Latest activity.
    pub last_activity_at: String,
    /// In a forum's list, for a logged-in reader who opened the thread: how many of its posts
    /// they have seen, and how many they have not.
    pub posts_read: Option<i64>,
    /// See `posts_read`.
    pub new_posts: Option<i64>,
}

impl ThreadJson {
    /// The same, with how far the reader has read (from `read`: `(thread, posts read)`).
    pub fn read_by(mut self, read: &[(i64, i64)]) -> ThreadJson {
        if let Some((_, n)) = read.iter().find(|(t, _)| *t == self.id) {
            self.posts_read = Some(*n);
            self.new_posts = Some((self.reply_count + 1 - n).max(0));
        }
        self
    }

    /// From rows.
    pub fn new(t: &Thread, forum: &Forum, author: &Author, urls: &Urls) -> ThreadJson {
        ThreadJson {
            id: t.id,
            url: urls.thread(t),
            title: t.title.clone(),
            forum: forum.handle(),
            author: UserJson::of(author, urls),
            pinned: t.pinned,
            locked: t.locked_at.is_some(),
            locked_at: t.locked_at.map(ts),
            reply_count: t.reply_count,
            created_at: ts(t.created_at),
            last_activity_at: ts(t.last_activity_at),
            posts_read: None,
            new_posts: None,
        }
    }
}

/// A post. A deleted post keeps its place but not its words: `body` and `html` are null.
#[derive(Debug, Serialize)]
pub struct PostJson {
    /// Id.
    pub id: i64,
    /// Canonical URL.
    pub url: String,
    /// The thread.
    pub thread_id: i64,
    /// Author.
    pub author: UserJson,
    /// The post it answers.
    pub in_reply_to: Option<i64>,
    /// Opening post of its thread?
    pub is_opening: bool,
    /// Markdown source.
    pub body: Option<String>,
    /// Sanitized HTML.
    pub html: Option<String>,
    /// Written.
    pub created_at: String,
    /// Last edited.
    pub edited_at: Option<String>,
    /// Deleted by its author?
    pub deleted: bool,
    /// Removed by a moderator? (Its words are then shown only to the forum's moderators.)
    pub removed: bool,
    /// Why it was removed.
    pub removal_reason: Option<String>,
    /// How many marked it helpful.
    pub helpful_count: i64,
}

impl PostJson {
    /// From rows, as a reader sees it.
    pub fn new(p: &Post, author: &User, urls: &Urls) -> PostJson {
        PostJson::shown(p, author, urls, false)
    }

    /// From rows; `moderator` sees the words of a removed post too.
    pub fn shown(p: &Post, author: &User, urls: &Urls, moderator: bool) -> PostJson {
        PostJson::by(p, &Author::from(author), urls, moderator)
    }

    /// [`PostJson::shown`] with its author as an [`Author`].
    fn by(p: &Post, author: &Author, urls: &Urls, moderator: bool) -> PostJson {
        let deleted = p.deleted_at.is_some() || (p.removed_at.is_some() && !moderator);
        PostJson {
            id: p.id,
            url: urls.post(p),
            thread_id: p.thread_id,
            author: UserJson::of(author, urls),
            in_reply_to: p.in_reply_to_id,
            is_opening: p.is_opening,
            body: (!deleted).then(|| p.body_markdown.clone()),
            html: (!deleted).then(|| p.body_html.clone()),
            created_at: ts(p.created_at),
            edited_at: p.edited_at.map(ts),
            deleted: p.deleted_at.is_some(),
            removed: p.removed_at.is_some(),
            removal_reason: p.removal_reason.clone(),
            helpful_count: p.helpful_count,
        }
    }

    /// From a page's view of a post; `moderator` sees the words of a removed post too.
    pub fn from_view(v: &PostView, urls: &Urls, moderator: bool) -> PostJson {
        PostJson::by(&v.post, &v.author, urls, moderator)
    }
}

/// An earlier version of a post.
#[derive(Debug, Serialize)]
pub struct RevisionJson {
    /// The title then (opening posts).
    pub title: Option<String>,
    /// Markdown then.
    pub body: String,
    /// HTML then.
    pub html: String,
    /// When it was written.
    pub written_at: String,
    /// When an edit replaced it.
    pub replaced_at: String,
}

impl From<&Revision> for RevisionJson {
    fn from(r: &Revision) -> RevisionJson {
        RevisionJson {
            title: r.title.clone(),
            body: r.body_markdown.clone(),
            html: r.body_html.clone(),
            written_at: ts(r.written_at),
            replaced_at: ts(r.replaced_at),
        }
    }
}

/// Where a page of results stands.
#[derive(Debug, Serialize)]
pub struct PagingJson {
    /// This page.
    pub page: u32,
    /// Pages in all.
    pub pages: u32,
    /// Items on a page.
    pub per_page: u32,
    /// Items in all.
    pub total: i64,
}

impl From<&Paging> for PagingJson {
    fn from(p: &Paging) -> PagingJson {
        PagingJson {
            page: p.page,
            pages: p.pages,
            per_page: p.per_page,
            total: p.total,
        }
    }
}
