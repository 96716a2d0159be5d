//! What templates show: rows turned into display values (links, dates, permissions) once, so
//! templates hold no logic beyond loops and conditions.

use chrono::NaiveDateTime;

pub use super::when::{ago, When};
use crate::error::FieldError;
use crate::forum::threads::PostView;
use crate::forum::{Author, Forum, Paging, Thread, User};

/// The end a date field gives (`<input type="date">`, `YYYY-MM-DD`): the moment that day begins,
/// UTC; `None` when left empty. Anything else is a mistake on the `expires_at` field, saying
/// `what` ends ("the ban").
pub fn end_day(input: &str, what: &str) -> Result<Option<NaiveDateTime>, FormErrors> {
    match input.trim() {
        "" => Ok(None),
        day => chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map(|d| Some(d.and_time(chrono::NaiveTime::MIN)))
            .map_err(|_| {
                FormErrors(vec![FieldError {
                    field: "expires_at",
                    message: format!("Give the day {what} ends as a date, such as 2027-01-31."),
                }])
            }),
    }
}

/// A person, as linked beside their posts.
#[derive(Debug, Clone)]
pub struct UserLink {
    /// Username.
    pub name: String,
    /// Display name.
    pub display_name: String,
    /// Profile path (or the remote profile URL).
    pub url: String,
    /// Administrator?
    pub is_admin: bool,
    /// `@name` locally; `@name@domain` for a remote person, so the reader sees where words
    /// came from.
    pub handle: String,
}

impl From<&User> for UserLink {
    fn from(u: &User) -> UserLink {
        UserLink::from(&Author::from(u))
    }
}

impl From<&Author> for UserLink {
    fn from(u: &Author) -> UserLink {
        let (url, handle) = match (&u.ap_id, &u.domain) {
            // A remote person links to their home: their profile page, else their actor id.
            (Some(id), Some(domain)) if !u.local => (
                u.profile_url.clone().unwrap_or_else(|| id.clone()),
                format!("@{}@{domain}", u.name),
            ),
            _ => (format!("/u/{}", u.name), format!("@{}", u.name)),
        };
        UserLink {
            name: u.name.clone(),
            display_name: u.display_name.clone(),
            url,
            is_admin: u.is_admin,
            handle,
        }
    }
}

/// A numbered link in a pager.
#[derive(Debug, Clone)]
pub struct PageLink {
    /// Page number; 0 stands for a gap ("…").
    pub number: u32,
    /// Where it goes.
    pub url: String,
    /// The page being shown.
    pub current: bool,
}

/// Numbered pages with previous and next.
#[derive(Debug, Clone)]
pub struct Pager {
    /// Previous page, if any.
    pub prev: Option<String>,
    /// Next page, if any.
    pub next: Option<String>,
    /// First, last, and the pages around the current one, with gaps.
    pub links: Vec<PageLink>,
}

impl Pager {
    /// A pager for `base` (a path without query) at `paging`.
    pub fn new(base: &str, paging: &Paging) -> Pager {
        Pager::with_query(base, "", paging)
    }

    /// A pager for `base` with the (encoded) query `query` kept on every page's link.
    pub fn with_query(base: &str, query: &str, paging: &Paging) -> Pager {
        let url = |n: u32| match (n, query.is_empty()) {
            (1, true) => base.to_string(),
            (1, false) => format!("{base}?{query}"),
            (_, true) => format!("{base}?page={n}"),
            (_, false) => format!("{base}?{query}&page={n}"),
        };
        let (page, pages) = (paging.page, paging.pages);
        let mut links = Vec::new();
        let mut last_shown = 0;
        for n in 1..=pages {
            let near = n.abs_diff(page) <= 2;
            if n == 1 || n == pages || near {
                if last_shown != 0 && n > last_shown + 1 {
                    links.push(PageLink {
                        number: 0,
                        url: String::new(),
                        current: false,
                    });
                }
                links.push(PageLink {
                    number: n,
                    url: url(n),
                    current: n == page,
                });
                last_shown = n;
            }
        }
        Pager {
            prev: (page > 1).then(|| url(page - 1)),
            next: (page < pages).then(|| url(page + 1)),
            links: if pages > 1 { links } else { Vec::new() },
        }
    }
}

/// A forum in a list.
#[derive(Debug, Clone)]
pub struct ForumItem {
    /// URL name.
    pub name: String,
    /// Path.
    pub url: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Threads.
    pub thread_count: i64,
    /// Latest activity.
    pub last_activity: Option<When>,
    /// Read-only?
    pub archived: bool,
    /// The server a remote forum lives on.
    pub origin: Option<String>,
    /// A remote forum's own page there.
    pub original_url: Option<String>,
    /// Only its members may read it.
    pub members_only: bool,
}

impl From<&Forum> for ForumItem {
    fn from(f: &Forum) -> ForumItem {
        let remote = !f.local;
        ForumItem {
            name: f.handle(),
            url: format!("/f/{}", f.handle()),
            origin: f.domain.clone().filter(|_| remote),
            original_url: f
                .profile_url
                .clone()
                .or_else(|| f.ap_id.clone())
                .filter(|_| remote),
            title: f.title.clone(),
            description: f.description.clone(),
            thread_count: f.thread_count,
            last_activity: f.last_activity_at.map(When::new),
            archived: f.archived,
            members_only: f.members_only(),
        }
    }
}

/// A thread in a forum's list.
#[derive(Debug, Clone)]
pub struct ThreadItem {
    /// Path.
    pub url: String,
    /// Title.
    pub title: String,
    /// Pinned?
    pub pinned: bool,
    /// Locked (no new replies)?
    pub locked: bool,
    /// Who started it.
    pub author: UserLink,
    /// When.
    pub started: When,
    /// Replies.
    pub replies: i64,
    /// Latest activity.
    pub last_activity: When,
    /// Posts the logged-in reader has not seen, in a thread they opened before.
    pub new_posts: Option<i64>,
}

impl ThreadItem {
    /// The same, saying how many of its posts the reader has not seen (from `read`:
    /// `(thread, posts read)` for the threads they opened).
    pub fn read_by(mut self, id: i64, total: i64, read: &[(i64, i64)]) -> ThreadItem {
        self.new_posts = read
            .iter()
            .find(|(t, _)| *t == id)
            .map(|(_, n)| (total - n).max(0));
        self
    }

    /// From a thread and its starter.
    pub fn new(t: &Thread, author: &Author) -> ThreadItem {
        ThreadItem {
            url: format!("/t/{}", t.id),
            title: t.title.clone(),
            pinned: t.pinned,
            locked: t.locked_at.is_some(),
            author: author.into(),
            started: When::new(t.created_at),
            replies: t.reply_count,
            last_activity: When::new(t.last_activity_at),
            new_posts: None,
        }
    }
}

/// The post a reply answers.
#[derive(Debug, Clone)]
pub struct ParentLink {
    /// Permalink of the answered post.
    pub url: String,
    /// Its author's display name.
    pub author: String,
}

/// A post on a thread page.
#[derive(Debug, Clone)]
pub struct PostItem {
    /// Post id.
    pub id: i64,
    /// Thread id.
    pub thread_id: i64,
    /// Permalink path (`/p/{id}`, or `/t/{id}` for an opening post).
    pub permalink: String,
    /// Author.
    pub author: UserLink,
    /// When written.
    pub created: When,
    /// When last edited.
    pub edited: Option<When>,
    /// Deleted (a placeholder)?
    pub deleted: bool,
    /// Removed by a moderator: readers see a placeholder, moderators the words and why.
    pub removed: Option<String>,
    /// The viewer moderates the forum: may remove or restore it.
    pub can_moderate: bool,
    /// Sanitized HTML.
    pub html: String,
    /// The post it answers.
    pub in_reply_to: Option<ParentLink>,
    /// Opening post?
    pub is_opening: bool,
    /// The viewer may reply and quote.
    pub can_reply: bool,
    /// The viewer may edit it.
    pub can_edit: bool,
    /// The viewer may delete it.
    pub can_delete: bool,
    /// A post from elsewhere: where it lives, and that server's name.
    pub original: Option<(String, String)>,
    /// How many marked it helpful.
    pub helpful_count: i64,
    /// The viewer may mark it helpful (or take the mark back).
    pub can_mark_helpful: bool,
    /// Whether the viewer may report it (logged in, not theirs, not deleted).
    pub can_report: bool,
    /// The viewer has marked it helpful.
    pub marked_helpful: bool,
}

impl PostItem {
    /// Builds the display of `view` for `viewer`; `open` says whether the forum takes posts.
    pub fn new(view: &PostView, viewer: Option<&User>, open: bool) -> PostItem {
        let post = &view.post;
        let deleted = post.deleted_at.is_some();
        let is_author = viewer.is_some_and(|u| u.id == post.author_id);
        let is_admin = viewer.is_some_and(|u| u.is_admin);
        PostItem {
            id: post.id,
            thread_id: post.thread_id,
            permalink: if post.is_opening {
                format!("/t/{}", post.thread_id)
            } else {
                format!("/p/{}", post.id)
            },
            author: (&view.author).into(),
            created: When::new(post.created_at),
            edited: post.edited_at.map(When::new),
            deleted,
            removed: post
                .removed_at
                .map(|_| post.removal_reason.clone().unwrap_or_default()),
            can_moderate: false,
            html: if post.readable() {
                post.body_html.clone()
            } else {
                String::new()
            },
            in_reply_to: view.in_reply_to.as_ref().map(|p| ParentLink {
                url: if p.is_opening {
                    format!("/t/{}", p.thread_id)
                } else {
                    format!("/p/{}", p.id)
                },
                author: p.author.clone(),
            }),
            is_opening: post.is_opening,
            can_reply: viewer.is_some() && open && post.readable(),
            can_edit: is_author && open && post.readable(),
            can_delete: (is_author || is_admin) && !deleted,
            helpful_count: post.helpful_count,
            can_mark_helpful: viewer.is_some() && !is_author && open && post.readable(),
            can_report: viewer.is_some() && !is_author && !deleted,
            marked_helpful: false,
            original: match (&post.ap_id, &view.author.domain) {
                (Some(id), Some(domain)) if !post.local => Some((id.clone(), domain.clone())),
                _ => None,
            },
        }
    }
}

impl PostItem {
    /// A post shown on its own (on a page that asks about it), with no controls.
    pub fn alone(ctx: &crate::forum::threads::PostContext, viewer: Option<&User>) -> PostItem {
        PostItem::new(
            &PostView {
                post: ctx.post.clone(),
                author: (&ctx.author).into(),
                in_reply_to: None,
            },
            viewer,
            false,
        )
    }

    /// The display for a moderator of the post's forum: the words of a removed post too, and
    /// the controls to remove or restore it.
    pub fn for_moderator(mut self, post: &crate::forum::Post) -> PostItem {
        self.can_moderate = true;
        if post.deleted_at.is_none() {
            self.html = post.body_html.clone();
        }
        self
    }
}

/// Field messages for a form shown again.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(pub Vec<FieldError>);

impl FormErrors {
    /// The message for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Whether `field` is the first with a message: the field the page puts the cursor in
    /// (`autofocus`), so that the educator lands where the mistake is.
    pub fn first_is(&self, field: &str) -> bool {
        self.0.first().is_some_and(|e| e.field == field)
    }

    /// Whether there are any messages.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagers_show_ends_and_neighbours_with_gaps() {
        let p = Pager::new("/f/x", &Paging::new(Some(6), 10, 200));
        let numbers: Vec<u32> = p.links.iter().map(|l| l.number).collect();
        assert_eq!(numbers, vec![1, 0, 4, 5, 6, 7, 8, 0, 20]);
        assert_eq!(p.prev.as_deref(), Some("/f/x?page=5"));
        assert_eq!(p.next.as_deref(), Some("/f/x?page=7"));
        assert_eq!(p.links[0].url, "/f/x");
        let single = Pager::new("/f/x", &Paging::new(None, 10, 3));
        assert!(single.links.is_empty() && single.prev.is_none() && single.next.is_none());
    }
}
