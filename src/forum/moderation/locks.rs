//! Locking and pinning threads, here and as other servers send it.

use super::*;

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
                    && (forum.local || log::is_moderator(conn, forum.id, by.id)?);
                let event = match action {
                    Action::Lock | Action::Unlock => Some(OutboxEvent::Lock {
                        thread_id: id,
                        moderator_id: by.id,
                        locked: action == Action::Lock,
                        reason: why.as_str().to_string(),
                    }),
                    Action::Pin | Action::Unpin => Some(OutboxEvent::Feature {
                        thread_id: id,
                        moderator_id: by.id,
                        featured: action == Action::Pin,
                    }),
                    _ => None,
                };
                let told = told && event.is_some();
                if let (true, Some(event)) = (told, event) {
                    push_event(conn, &event)?;
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
        let action = if locked { Action::Lock } else { Action::Unlock };
        let change = ThreadChange {
            by,
            post_id,
            action,
            why,
            announced_by,
            relay,
        };
        self.receive_thread_change(change, move |conn, thread, by| {
            if thread.locked_at.is_some() == locked {
                return Ok(false);
            }
            threads::set_locked(conn, thread.id, locked.then(|| (by, db::now())))?;
            Ok(true)
        })
        .await
    }

    /// A pin (or unpin) from elsewhere of the thread `post_id` opens: Lemmy's `Add` (or
    /// `Remove`) of it to the forum's `featured` collection, vouched for like a lock.
    /// `Ok(false)`: the post opens no thread.
    pub async fn receive_pin(
        &self,
        by: User,
        post_id: i64,
        pinned: bool,
        announced_by: Option<i64>,
        relay: Option<Relay>,
    ) -> Result<bool, ForumError> {
        let action = if pinned { Action::Pin } else { Action::Unpin };
        let change = ThreadChange {
            by,
            post_id,
            action,
            why: None,
            announced_by,
            relay,
        };
        self.receive_thread_change(change, move |conn, thread, _by| {
            if thread.pinned == pinned {
                return Ok(false);
            }
            threads::set_pinned(conn, thread.id, pinned)?;
            Ok(true)
        })
        .await
    }

    /// Applies a moderator's change from elsewhere to the thread a post opens (`apply` answers
    /// whether anything changed), recorded in the log and relayed to our forum's followers.
    async fn receive_thread_change<F>(
        &self,
        change: ThreadChange,
        apply: F,
    ) -> Result<bool, ForumError>
    where
        F: FnOnce(&mut Conn<'_>, &Thread, i64) -> diesel::QueryResult<bool> + Send + 'static,
    {
        self.blocking_then_send(move |_inner, conn| {
            let ThreadChange {
                by,
                post_id,
                action,
                why,
                announced_by,
                relay,
            } = change;
            let (post, _, thread, forum) = crate::db::posts::with_context(conn, post_id)?
                .ok_or(ForumError::NotFound { what: "post" })?;
            if !post.is_opening {
                return Ok((false, false));
            }
            require_vouched(conn, &by, &forum, announced_by)?;
            let why = remote_reason(why);
            conn.transaction(|conn| {
                if !apply(conn, &thread, by.id)? {
                    return Ok((true, false));
                }
                record(conn, &forum, &by, action, Target::thread(thread.id), &why)?;
                Ok((true, relay_event(conn, &forum, Some(thread.id), relay)?))
            })
        })
        .await
    }
}

/// A moderator's change to a thread, sent from elsewhere.
struct ThreadChange {
    by: User,
    post_id: i64,
    action: Action,
    why: Option<String>,
    announced_by: Option<i64>,
    relay: Option<Relay>,
}

impl Site {
    /// Moves a thread to another forum of this instance, with an optional reason: `by` must
    /// moderate both forums. Both forums' counts follow the thread, and the move is recorded
    /// in both logs. Moving a thread where it is already changes nothing; threads of forums
    /// elsewhere, and into them, cannot be moved (`not_local`).
    pub async fn move_thread(
        &self,
        by: User,
        id: i64,
        to_forum: String,
        why: String,
    ) -> Result<Thread, ForumError> {
        self.blocking(move |_inner, conn| {
            let (thread, from) = thread_and_forum(conn, id)?;
            require_moderator(conn, &by, &from)?;
            let why = reason(&why)?;
            let to = match forums::by_handle(conn, &to_forum)? {
                Some(to) if to.local => to,
                Some(_) => {
                    return Err(ForumError::invalid(
                        "not_local",
                        "forum",
                        "A thread can only be moved to a forum of this instance.",
                    ))
                }
                None => {
                    return Err(ForumError::invalid(
                        "unknown_forum",
                        "forum",
                        "There is no forum by that name here.",
                    ))
                }
            };
            if !from.local {
                return Err(ForumError::forbidden(
                    "not_local",
                    "Only threads in this instance's forums can be moved",
                ));
            }
            if to.id == from.id {
                return Ok(thread);
            }
            require_moderator(conn, &by, &to)?;
            crate::forum::forums::require_open(&to)?;
            conn.transaction(|conn| {
                let moved = threads::set_forum(conn, id, to.id)?;
                let posts = 1 + thread.reply_count;
                let latest = to
                    .last_activity_at
                    .is_none_or(|at| at < thread.last_activity_at)
                    .then_some(thread.last_activity_at);
                // The forums' rows in id order, then their authors' counts (the order every
                // writer takes them in).
                let mut shifts = [(from.id, (-1, -posts), None), (to.id, (1, posts), latest)];
                shifts.sort_by_key(|(forum, _, _)| *forum);
                for (forum, counts, latest) in shifts {
                    forums::shift_counts(conn, forum, counts, latest)?;
                }
                author_counts::move_thread(conn, id, from.id, to.id)?;
                record(conn, &from, &by, Action::Move, Target::thread(id), &why)?;
                record(conn, &to, &by, Action::Move, Target::thread(id), &why)?;
                Ok(moved)
            })
        })
        .await
    }
}
