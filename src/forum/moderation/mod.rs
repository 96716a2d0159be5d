//! Moderation: who may moderate a forum (administrators everywhere, appointed moderators in
//! their forums), appointing and dismissing moderators, locking and pinning threads, and the
//! log that records every such action with who did it and why. One file per concern:
//! `locks` (lock, pin), `removals` (remove, restore), `appointments` (appointing, and the
//! moderators of forums elsewhere) and `logbook` (reading the log); here, the rules they share.

mod appointments;
mod bans;
mod locks;
mod logbook;
mod members;
mod removals;
mod reports;

pub(crate) use bans::{banned_from, require_not_banned};
pub use bans::{BanRequest, BanView, ReceivedBan};
pub use logbook::InstanceLogPage;
pub(crate) use members::set_visibility;
pub use members::MemberList;
pub use reports::{Outcome, ReceivedReport, ReportQueue, ReportView};

use super::incoming::{relay_event, Relay};
use super::outbox::{push_event, OutboxEvent};
use super::remote::{Resolved, Resolver};
use super::threads::{context as post_context, PostContext};
use super::types::Reason;
use super::visibility::{require_can_read, require_federated};
use super::{require_admin, Forum, Inner, Paging, Post, Site, Thread, User};
use crate::db::moderation::{self as log, LogEntry, NewLogEntry};
use crate::db::{self, author_counts, forums, threads, users, Conn};
use crate::error::{ForumError, Validator};

/// What a moderator did, as the log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Locked a thread: no new replies.
    Lock,
    /// Unlocked a thread.
    Unlock,
    /// Pinned a thread to the top of its forum.
    Pin,
    /// Unpinned a thread.
    Unpin,
    /// Made someone a moderator of the forum.
    Appoint,
    /// Took someone off the forum's moderators.
    Dismiss,
    /// Removed a post: hidden from readers, kept for moderators.
    Remove,
    /// Restored a removed post.
    Restore,
    /// Banned a person from the forum (or, with no forum, from the whole instance).
    Ban,
    /// Lifted a ban.
    Unban,
    /// Moved a thread to another forum (recorded in both).
    Move,
    /// Resolved a report (acted on it).
    Resolve,
    /// Dismissed a report (nothing to act on).
    DismissReport,
    /// Let a person into a members-only forum.
    AddMember,
    /// Took a person off a members-only forum's members.
    RemoveMember,
    /// Made the forum members-only.
    CloseForum,
    /// Opened a members-only forum to everyone.
    OpenForum,
}

impl Action {
    const ALL: [Action; 17] = [
        Action::Lock,
        Action::Unlock,
        Action::Pin,
        Action::Unpin,
        Action::Appoint,
        Action::Dismiss,
        Action::Remove,
        Action::Restore,
        Action::Ban,
        Action::Unban,
        Action::Move,
        Action::Resolve,
        Action::DismissReport,
        Action::AddMember,
        Action::RemoveMember,
        Action::CloseForum,
        Action::OpenForum,
    ];

    /// The stable name stored in the log and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Lock => "lock",
            Action::Unlock => "unlock",
            Action::Pin => "pin",
            Action::Unpin => "unpin",
            Action::Appoint => "appoint",
            Action::Dismiss => "dismiss",
            Action::Remove => "remove",
            Action::Restore => "restore",
            Action::Ban => "ban",
            Action::Unban => "unban",
            Action::Move => "move",
            Action::Resolve => "resolve",
            Action::DismissReport => "dismiss_report",
            Action::AddMember => "add_member",
            Action::RemoveMember => "remove_member",
            Action::CloseForum => "members_only",
            Action::OpenForum => "public",
        }
    }

    /// The action with this stable name.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// What was done, as a page says it ("locked the thread").
    pub fn describe(self) -> &'static str {
        match self {
            Action::Lock => "locked the thread",
            Action::Unlock => "unlocked the thread",
            Action::Pin => "pinned the thread",
            Action::Unpin => "unpinned the thread",
            Action::Appoint => "appointed a moderator",
            Action::Dismiss => "removed a moderator",
            Action::Remove => "removed a post in",
            Action::Restore => "restored a post in",
            Action::Ban => "banned",
            Action::Unban => "lifted the ban on",
            Action::Move => "moved the thread",
            Action::Resolve => "resolved a report on a post in",
            Action::DismissReport => "dismissed a report on a post in",
            Action::AddMember => "added a member",
            Action::RemoveMember => "removed a member",
            Action::CloseForum => "made the forum members-only",
            Action::OpenForum => "opened the forum to everyone",
        }
    }
}

/// One entry of a forum's moderation log, with what it names.
#[derive(Debug, Clone)]
pub struct LogItem {
    /// The entry.
    pub entry: LogEntry,
    /// What was done (`None` for a name this build does not know).
    pub action: Option<Action>,
    /// Who did it: `None` when the log hides moderators from this viewer, or the account is gone.
    pub moderator: Option<User>,
    /// The thread acted on.
    pub thread: Option<Thread>,
    /// The person acted on.
    pub person: Option<User>,
}

/// One page of a forum's moderation log, newest first.
#[derive(Debug, Clone)]
pub struct LogPage {
    /// The forum.
    pub forum: Forum,
    /// The entries.
    pub items: Vec<LogItem>,
    /// Where this page stands.
    pub paging: Paging,
}

/// A forum with its moderators.
#[derive(Debug, Clone)]
pub struct Moderators {
    /// The forum.
    pub forum: Forum,
    /// Its moderators, in the order they were appointed.
    pub moderators: Vec<User>,
}

/// Whether `user` moderates `forum`: administrators of this instance moderate every forum, an
/// appointed moderator (of this instance or another) the forums they were appointed to.
pub(crate) fn moderates(
    conn: &mut Conn<'_>,
    user: &User,
    forum: &Forum,
) -> Result<bool, ForumError> {
    Ok((user.local && user.is_admin) || log::is_moderator(conn, forum.id, user.id)?)
}

/// Fails with `moderators_only` unless `user` moderates `forum`.
pub(crate) fn require_moderator(
    conn: &mut Conn<'_>,
    user: &User,
    forum: &Forum,
) -> Result<(), ForumError> {
    if moderates(conn, user, forum)? {
        Ok(())
    } else {
        // Someone who may not read a members-only forum is not told it exists.
        require_can_read(conn, forum, Some(user), "forum")?;
        Err(ForumError::forbidden(
            "moderators_only",
            "Only this forum's moderators can do that",
        ))
    }
}

/// Fails with `thread_locked` when the thread takes no new replies and `by` may not reply
/// anyway: its forum's moderators may, and our administrators in our forums (not in a forum
/// elsewhere, whose server would refuse the reply).
pub(crate) fn require_unlocked(
    conn: &mut Conn<'_>,
    thread: &Thread,
    forum: &Forum,
    by: Option<&User>,
) -> Result<(), ForumError> {
    if thread.locked_at.is_none() {
        return Ok(());
    }
    if let Some(by) = by {
        let may = if forum.local {
            moderates(conn, by, forum)?
        } else {
            log::is_moderator(conn, forum.id, by.id)?
        };
        if may {
            return Ok(());
        }
    }
    Err(ForumError::forbidden(
        "thread_locked",
        "This thread is locked: it can be read, but it takes no new replies",
    ))
}

/// What a moderator acted on.
#[derive(Debug, Clone, Copy, Default)]
struct Target {
    thread: Option<i64>,
    post: Option<i64>,
    person: Option<i64>,
}

impl Target {
    fn thread(id: i64) -> Target {
        Target {
            thread: Some(id),
            ..Target::default()
        }
    }

    fn post(ctx: &PostContext) -> Target {
        Target {
            thread: Some(ctx.thread.id),
            post: Some(ctx.post.id),
            person: Some(ctx.author.id),
        }
    }

    fn person(id: i64) -> Target {
        Target {
            person: Some(id),
            ..Target::default()
        }
    }
}

/// Records a moderator's action.
fn record(
    conn: &mut Conn<'_>,
    forum: &Forum,
    by: &User,
    action: Action,
    target: Target,
    reason: &Reason,
) -> Result<(), ForumError> {
    record_in(conn, Some(forum.id), by, action, target, reason)
}

/// Records a moderator's action in a forum's log, or (`None`) in the instance's.
fn record_in(
    conn: &mut Conn<'_>,
    forum_id: Option<i64>,
    by: &User,
    action: Action,
    target: Target,
    reason: &Reason,
) -> Result<(), ForumError> {
    log::record(
        conn,
        &NewLogEntry {
            forum_id,
            moderator_id: Some(by.id),
            action: action.as_str(),
            thread_id: target.thread,
            post_id: target.post,
            person_id: target.person,
            reason: reason.as_str(),
            created_at: db::now(),
        },
    )?;
    Ok(())
}

/// Fails with `moderators_only` unless a moderation from elsewhere may stand: for one of our
/// forums, `by` moderates it; for a forum elsewhere, that forum passed it on (`announced_by`).
fn require_vouched(
    conn: &mut Conn<'_>,
    by: &User,
    forum: &Forum,
    announced_by: Option<i64>,
) -> Result<(), ForumError> {
    // Nothing from elsewhere reaches a members-only forum.
    require_federated(forum, "forum")?;
    let vouched = if forum.local {
        moderates(conn, by, forum)?
    } else {
        announced_by == Some(forum.id)
    };
    if vouched {
        Ok(())
    } else {
        Err(ForumError::forbidden(
            "moderators_only",
            "Only this forum's moderators can do that",
        ))
    }
}

fn thread_and_forum(conn: &mut Conn<'_>, id: i64) -> Result<(Thread, Forum), ForumError> {
    let thread = threads::by_id(conn, id)?.ok_or(ForumError::NotFound { what: "thread" })?;
    let forum =
        forums::by_id(conn, thread.forum_id)?.ok_or(ForumError::NotFound { what: "forum" })?;
    Ok((thread, forum))
}

/// Records a removal (or restoring) by a moderator here, and tells the servers that must hear
/// of it: our forum's followers, or the forum elsewhere when `by` moderates it there. Whether
/// anything was told.
fn removal_recorded(
    inner: &Inner,
    conn: &mut Conn<'_>,
    ctx: &PostContext,
    by: &User,
    removed: bool,
    why: &Reason,
) -> Result<bool, ForumError> {
    let action = if removed {
        Action::Remove
    } else {
        Action::Restore
    };
    record(conn, &ctx.forum, by, action, Target::post(ctx), why)?;
    let told = inner.settings.federation.enabled
        && (ctx.forum.local || log::is_moderator(conn, ctx.forum.id, by.id)?);
    if told {
        push_event(
            conn,
            &OutboxEvent::Removal {
                post_id: ctx.post.id,
                moderator_id: by.id,
                removed,
                reason: why.as_str().to_string(),
            },
        )?;
    }
    Ok(told)
}

/// A reason sent by another server, made fit: one line, cut to our limit.
fn remote_reason(why: Option<String>) -> Reason {
    Reason::parse(
        &crate::forum::types::remote_line(why.as_deref().unwrap_or_default(), Reason::MAX_CHARS),
        false,
    )
    .unwrap_or_default()
}

fn local_forum(conn: &mut Conn<'_>, name: &str) -> Result<Forum, ForumError> {
    forums::local_by_name(conn, &name.to_ascii_lowercase())?
        .ok_or(ForumError::NotFound { what: "forum" })
}

fn reason(input: &str) -> Result<Reason, ForumError> {
    let mut v = Validator::new();
    v.check("reason", Reason::parse(input, false))
        .ok_or_else(|| v.into_error())
}
