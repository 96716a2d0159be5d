//! Moderation: who may moderate a forum (administrators everywhere, appointed moderators in
//! their forums), appointing and dismissing moderators, locking and pinning threads, and the
//! log that records every such action with who did it and why.

use super::incoming::{relay_event, Relay};
use super::outbox::{push_event, OutboxEvent};
use super::remote::{Resolved, Resolver};
use super::threads::PostContext;
use super::types::Reason;
use super::{require_admin, Forum, Inner, Paging, Post, Site, Thread, User};
use crate::db::moderation::{self as log, LogEntry, NewLogEntry};
use crate::db::{self, forums, threads, users, Conn};
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
}

impl Action {
    const ALL: [Action; 8] = [
        Action::Lock,
        Action::Unlock,
        Action::Pin,
        Action::Unpin,
        Action::Appoint,
        Action::Dismiss,
        Action::Remove,
        Action::Restore,
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
    log::record(
        conn,
        &NewLogEntry {
            forum_id: Some(forum.id),
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
        &super::types::remote_line(why.as_deref().unwrap_or_default(), Reason::MAX_CHARS),
        false,
    )
    .unwrap_or_default()
}

fn post_context(conn: &mut Conn<'_>, id: i64) -> Result<PostContext, ForumError> {
    let (post, author, thread, forum) =
        crate::db::posts::with_context(conn, id)?.ok_or(ForumError::NotFound { what: "post" })?;
    Ok(PostContext {
        post,
        author,
        thread,
        forum,
    })
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

impl Site {
    /// The thread and its forum, if `by` moderates the forum (for showing a moderator's form).
    pub async fn thread_to_moderate(
        &self,
        by: User,
        id: i64,
    ) -> Result<(Thread, Forum), ForumError> {
        self.blocking(move |_inner, conn| {
            let (thread, forum) = thread_and_forum(conn, id)?;
            require_moderator(conn, &by, &forum)?;
            Ok((thread, forum))
        })
        .await
    }

    /// Locks a thread (no new replies, except from its forum's moderators) or unlocks it, with
    /// an optional reason; recorded in the forum's log. Doing what is already done changes
    /// nothing and records nothing.
    pub async fn lock_thread(
        &self,
        by: User,
        id: i64,
        locked: bool,
        why: String,
    ) -> Result<Thread, ForumError> {
        let action = if locked { Action::Lock } else { Action::Unlock };
        let lock = locked.then(|| (by.id, db::now()));
        self.moderate_thread(by, id, action, why, move |conn, thread| {
            if thread.locked_at.is_some() == locked {
                return Ok(None);
            }
            threads::set_locked(conn, id, lock).map(Some)
        })
        .await
    }

    /// Pins or unpins a thread (its forum's moderators), recorded in the forum's log.
    pub async fn pin_thread(&self, by: User, id: i64, pinned: bool) -> Result<Thread, ForumError> {
        let action = if pinned { Action::Pin } else { Action::Unpin };
        self.moderate_thread(by, id, action, String::new(), move |conn, thread| {
            if thread.pinned == pinned {
                return Ok(None);
            }
            threads::set_pinned(conn, id, pinned).map(Some)
        })
        .await
    }

    /// Does `action` to a thread if `by` moderates its forum: `change` answers the thread
    /// changed, or `None` when it was so already (then nothing is recorded). A lock or unlock in
    /// one of our forums is told to the servers that follow it.
    async fn moderate_thread<F>(
        &self,
        by: User,
        id: i64,
        action: Action,
        why: String,
        change: F,
    ) -> Result<Thread, ForumError>
    where
        F: FnOnce(&mut Conn<'_>, &Thread) -> diesel::QueryResult<Option<Thread>> + Send + 'static,
    {
        self.blocking_then_send(move |inner, conn| {
            let (thread, forum) = thread_and_forum(conn, id)?;
            require_moderator(conn, &by, &forum)?;
            let why = reason(&why)?;
            conn.transaction(|conn| {
                let Some(changed) = change(conn, &thread)? else {
                    return Ok((thread, false));
                };
                record(conn, &forum, &by, action, Target::thread(id), &why)?;
                // Our forums' followers hear of it; a forum elsewhere, when `by` is one of its
                // moderators (an administrator's lock of a thread elsewhere holds here only).
                let told = inner.settings.federation.enabled
                    && matches!(action, Action::Lock | Action::Unlock)
                    && (forum.local || log::is_moderator(conn, forum.id, by.id)?);
                if told {
                    push_event(
                        conn,
                        &OutboxEvent::Lock {
                            thread_id: id,
                            moderator_id: by.id,
                            locked: action == Action::Lock,
                            reason: why.as_str().to_string(),
                        },
                    )?;
                }
                Ok((changed, told))
            })
        })
        .await
    }

    /// A lock (or unlock) from elsewhere of the thread `post_id` opens. For one of our forums
    /// the actor must moderate it, and the change is relayed to its followers; for a forum
    /// elsewhere, only that forum may pass it on (`announced_by`, the forum's id here). The
    /// reason is cut to our limit. `Ok(false)`: the post opens no thread (Lemmy 1.0 locks
    /// replies too), so there is nothing to lock.
    pub async fn receive_lock(
        &self,
        by: User,
        post_id: i64,
        locked: bool,
        why: Option<String>,
        announced_by: Option<i64>,
        relay: Option<Relay>,
    ) -> Result<bool, ForumError> {
        self.blocking_then_send(move |_inner, conn| {
            let (post, _, thread, forum) = crate::db::posts::with_context(conn, post_id)?
                .ok_or(ForumError::NotFound { what: "post" })?;
            if !post.is_opening {
                return Ok((false, false));
            }
            let vouched = if forum.local {
                moderates(conn, &by, &forum)?
            } else {
                announced_by == Some(forum.id)
            };
            if !vouched {
                return Err(ForumError::forbidden(
                    "moderators_only",
                    "Only this forum's moderators can lock its threads",
                ));
            }
            if thread.locked_at.is_some() == locked {
                return Ok((true, false));
            }
            let why = remote_reason(why);
            conn.transaction(|conn| {
                threads::set_locked(conn, thread.id, locked.then(|| (by.id, db::now())))?;
                let action = if locked { Action::Lock } else { Action::Unlock };
                record(conn, &forum, &by, action, Target::thread(thread.id), &why)?;
                Ok((true, relay_event(conn, &forum, relay)?))
            })
        })
        .await
    }

    /// A post with its thread and forum, if `by` moderates the forum (for the removal form).
    pub async fn post_to_moderate(&self, by: User, id: i64) -> Result<PostContext, ForumError> {
        self.blocking(move |_inner, conn| {
            let ctx = post_context(conn, id)?;
            require_moderator(conn, &by, &ctx.forum)?;
            Ok(ctx)
        })
        .await
    }

    /// Removes a post (its forum's moderators), saying why (required): readers then see that a
    /// moderator removed it, moderators still read it, and it can be restored; a removed
    /// opening post keeps its thread and replies. Recorded in the forum's log. A post deleted
    /// by its author is gone already (410 `post_deleted`); removing a removed post changes
    /// nothing.
    pub async fn remove_post(&self, by: User, id: i64, why: String) -> Result<Post, ForumError> {
        self.blocking_then_send(move |inner, conn| {
            let ctx = post_context(conn, id)?;
            require_moderator(conn, &by, &ctx.forum)?;
            if ctx.post.deleted_at.is_some() {
                return Err(ForumError::Gone {
                    code: "post_deleted",
                    message: "This post was deleted by its author".into(),
                });
            }
            let mut v = Validator::new();
            let Some(why) = v.check("reason", Reason::parse(&why, true)) else {
                return Err(v.into_error());
            };
            if ctx.post.removed_at.is_some() {
                return Ok((ctx.post, false));
            }
            conn.transaction(|conn| {
                let removed = crate::db::posts::set_removed(
                    conn,
                    id,
                    Some((by.id, db::now(), why.as_str())),
                )?;
                let told = removal_recorded(inner, conn, &ctx, &by, true, &why)?;
                Ok((removed, told))
            })
        })
        .await
    }

    /// Restores a removed post (its forum's moderators), with an optional reason; recorded in
    /// the forum's log. Restoring a post that is not removed changes nothing.
    pub async fn restore_post(&self, by: User, id: i64, why: String) -> Result<Post, ForumError> {
        self.blocking_then_send(move |inner, conn| {
            let ctx = post_context(conn, id)?;
            require_moderator(conn, &by, &ctx.forum)?;
            let why = reason(&why)?;
            if ctx.post.removed_at.is_none() {
                return Ok((ctx.post, false));
            }
            conn.transaction(|conn| {
                let restored = crate::db::posts::set_removed(conn, id, None)?;
                let told = removal_recorded(inner, conn, &ctx, &by, false, &why)?;
                Ok((restored, told))
            })
        })
        .await
    }

    /// A removal (or restoring) from elsewhere of the post `post_id`, by `by`. For one of our
    /// forums they must moderate it, and the change is relayed to its followers; for a forum
    /// elsewhere, only that forum may pass it on (`announced_by`). A post its author deleted
    /// stays deleted; the reason is cut to our limit.
    pub async fn receive_removal(
        &self,
        by: User,
        post_id: i64,
        removed: bool,
        why: Option<String>,
        announced_by: Option<i64>,
        relay: Option<Relay>,
    ) -> Result<(), ForumError> {
        self.blocking_then_send(move |_inner, conn| {
            let ctx = post_context(conn, post_id)?;
            let vouched = if ctx.forum.local {
                moderates(conn, &by, &ctx.forum)?
            } else {
                announced_by == Some(ctx.forum.id)
            };
            if !vouched {
                return Err(ForumError::forbidden(
                    "moderators_only",
                    "Only this forum's moderators can remove its posts",
                ));
            }
            if ctx.post.deleted_at.is_some() || ctx.post.removed_at.is_some() == removed {
                return Ok(((), false));
            }
            let why = remote_reason(why);
            conn.transaction(|conn| {
                let removal = removed.then(|| (by.id, db::now(), why.as_str()));
                crate::db::posts::set_removed(conn, post_id, removal)?;
                let action = if removed {
                    Action::Remove
                } else {
                    Action::Restore
                };
                record(conn, &ctx.forum, &by, action, Target::post(&ctx), &why)?;
                Ok(((), relay_event(conn, &ctx.forum, relay)?))
            })
        })
        .await
    }

    /// A forum with its moderators: `name` for one of ours, `name@domain` for one elsewhere
    /// (those of its moderators known here).
    pub async fn moderators(&self, forum_name: String) -> Result<Moderators, ForumError> {
        self.blocking(move |_inner, conn| {
            let forum = forums::by_handle(conn, &forum_name)?
                .ok_or(ForumError::NotFound { what: "forum" })?;
            let moderators = log::of_forum(conn, forum.id)?;
            Ok(Moderators { forum, moderators })
        })
        .await
    }

    /// Makes a person a moderator of a forum of this instance (administrators only), recorded
    /// in the forum's log. `person` is a handle: `name` here, or `name@domain` elsewhere
    /// (found through `resolver` when it is not known yet).
    pub async fn appoint_moderator(
        &self,
        by: User,
        forum_name: String,
        person: &str,
        resolver: Option<&dyn Resolver>,
    ) -> Result<Moderators, ForumError> {
        require_admin(&by)?;
        let person = self.person_named(person, resolver).await?;
        self.change_moderators(by, forum_name, person, Action::Appoint)
            .await
    }

    /// Takes a person (by handle) off a forum's moderators (administrators only), recorded in
    /// the forum's log.
    pub async fn dismiss_moderator(
        &self,
        by: User,
        forum_name: String,
        person: &str,
    ) -> Result<Moderators, ForumError> {
        require_admin(&by)?;
        let person = self.person_named(person, None).await?;
        self.change_moderators(by, forum_name, person, Action::Dismiss)
            .await
    }

    /// The person a handle names, found elsewhere through `resolver` when not known here; a
    /// 422 `unknown_person` on the `person` field when there is none.
    async fn person_named(
        &self,
        handle: &str,
        resolver: Option<&dyn Resolver>,
    ) -> Result<User, ForumError> {
        let unknown = || {
            ForumError::invalid(
                "unknown_person",
                "person",
                "There is no one by that name: give a username here, or name@domain for someone on another server.",
            )
        };
        if let Some(person) = self.person_by_handle(handle.to_string()).await? {
            return Ok(person);
        }
        let elsewhere = handle.trim().trim_start_matches('@').contains('@');
        match resolver {
            Some(resolver) if elsewhere => match resolver.resolve(handle).await {
                Ok(Resolved::User(person)) => Ok(person),
                Ok(_) | Err(ForumError::NotFound { .. } | ForumError::Invalid(_)) => Err(unknown()),
                Err(e) => Err(e),
            },
            _ => Err(unknown()),
        }
    }

    async fn change_moderators(
        &self,
        by: User,
        forum_name: String,
        person: User,
        action: Action,
    ) -> Result<Moderators, ForumError> {
        self.blocking_then_send(move |inner, conn| {
            let forum = local_forum(conn, &forum_name)?;
            conn.transaction(|conn| {
                let added = action == Action::Appoint;
                let changed = if added {
                    log::add(conn, forum.id, person.id, Some(by.id), db::now())?
                } else {
                    log::remove(conn, forum.id, person.id)?
                };
                let told = changed && inner.settings.federation.enabled;
                if changed {
                    record(
                        conn,
                        &forum,
                        &by,
                        action,
                        Target::person(person.id),
                        &Reason::default(),
                    )?;
                }
                if told {
                    push_event(
                        conn,
                        &OutboxEvent::Moderator {
                            forum_id: forum.id,
                            person_id: person.id,
                            by_id: by.id,
                            added,
                        },
                    )?;
                }
                let moderators = log::of_forum(conn, forum.id)?;
                Ok((Moderators { forum, moderators }, told))
            })
        })
        .await
    }

    /// Who moderates a forum elsewhere, as its `moderators` collection lists them (actor ids):
    /// those known here (people of this instance among them) are recorded, and nobody else.
    pub async fn set_remote_moderators(
        &self,
        forum_id: i64,
        ids: Vec<String>,
    ) -> Result<(), ForumError> {
        let own = format!("{}/u/", self.urls().base());
        self.blocking(move |_inner, conn| {
            let forum =
                forums::by_id(conn, forum_id)?.ok_or(ForumError::NotFound { what: "forum" })?;
            if forum.local {
                return Ok(());
            }
            let mut people = Vec::new();
            for id in &ids {
                let person = match id.strip_prefix(&own) {
                    Some(name) if !name.contains('/') => users::local_by_name(conn, name)?,
                    _ => users::by_ap_id(conn, id)?,
                };
                people.extend(person);
            }
            conn.transaction(|conn| {
                for gone in log::of_forum(conn, forum.id)? {
                    if !people.iter().any(|p| p.id == gone.id) {
                        log::remove(conn, forum.id, gone.id)?;
                    }
                }
                for person in &people {
                    log::add(conn, forum.id, person.id, None, db::now())?;
                }
                Ok(())
            })
        })
        .await
    }

    /// A forum elsewhere says it appointed (or removed) a moderator (`Add` or `Remove` to its
    /// `moderators` collection, which it announced). Our own forums' moderators are appointed
    /// by our administrators only: such a change from elsewhere is refused.
    pub async fn receive_moderator_change(
        &self,
        forum_id: i64,
        person: User,
        added: bool,
    ) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            let forum =
                forums::by_id(conn, forum_id)?.ok_or(ForumError::NotFound { what: "forum" })?;
            if forum.local {
                return Err(ForumError::forbidden(
                    "admin_only",
                    "The administrators of this instance appoint its forums' moderators",
                ));
            }
            if added {
                log::add(conn, forum.id, person.id, None, db::now())?;
            } else {
                log::remove(conn, forum.id, person.id)?;
            }
            Ok(())
        })
        .await
    }

    /// One page of a forum's moderation log, newest first: public, though who acted is shown
    /// only to moderators when `moderation.log_shows_moderators` is false. Four queries
    /// whatever the page holds.
    pub async fn moderation_log(
        &self,
        viewer: Option<User>,
        forum_name: String,
        page: Option<u32>,
    ) -> Result<LogPage, ForumError> {
        let per_page = self.settings().pages.threads_per_page;
        let shows_moderators = self.settings().moderation.log_shows_moderators;
        self.blocking(move |_inner, conn| {
            let forum = local_forum(conn, &forum_name)?;
            let paging = Paging::new(page, per_page, log::count_in_forum(conn, forum.id)?);
            let entries = log::page_in_forum(conn, forum.id, paging.limit(), paging.offset())?;
            let names_moderators = shows_moderators
                || match &viewer {
                    Some(v) => moderates(conn, v, &forum)?,
                    None => false,
                };
            let mut people: Vec<i64> = entries.iter().filter_map(|e| e.person_id).collect();
            if names_moderators {
                people.extend(entries.iter().filter_map(|e| e.moderator_id));
            }
            people.sort_unstable();
            people.dedup();
            let people = log::people(conn, &people)?;
            let thread_ids: Vec<i64> = entries.iter().filter_map(|e| e.thread_id).collect();
            let threads = log::threads(conn, &thread_ids)?;
            let person =
                |id: Option<i64>| id.and_then(|id| people.iter().find(|u| u.id == id).cloned());
            let items = entries
                .into_iter()
                .map(|entry| LogItem {
                    action: Action::from_name(&entry.action),
                    moderator: if names_moderators {
                        person(entry.moderator_id)
                    } else {
                        None
                    },
                    person: person(entry.person_id),
                    thread: entry
                        .thread_id
                        .and_then(|id| threads.iter().find(|t| t.id == id).cloned()),
                    entry,
                })
                .collect();
            Ok(LogPage {
                forum,
                items,
                paging,
            })
        })
        .await
    }

    /// The person a handle names, if known here: `name` for someone of this instance,
    /// `name@domain` for someone elsewhere already seen (or of this instance, when the domain
    /// is ours).
    pub async fn person_by_handle(&self, handle: String) -> Result<Option<User>, ForumError> {
        let own = self.settings().server.public_url.clone();
        self.blocking(move |_inner, conn| {
            let handle = handle.trim().trim_start_matches('@');
            let (name, domain) = match handle.split_once('@') {
                Some((name, domain)) => (name, Some(domain.to_ascii_lowercase())),
                None => (handle, None),
            };
            let ours = domain.is_none() || domain == super::remote::domain_of(&own);
            Ok(match domain {
                Some(domain) if !ours => users::remote_by_handle(conn, name, &domain)?,
                _ => users::local_by_name(conn, &name.to_ascii_lowercase())?,
            })
        })
        .await
    }
}
