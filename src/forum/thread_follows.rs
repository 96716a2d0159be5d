//! Following one thread (see FEDERATION.md, "Following a thread"). People elsewhere follow a
//! thread of ours without following its forum: accepted at once (refused when the forum is
//! members-only), and from then on the thread's activities go to them as well. People here who
//! watch a thread elsewhere whose forum nobody here follows follow that thread, so its server
//! sends its new posts here; where it does not answer, the conversation is read again from its
//! context collection now and then instead. Each change records its outbox event in the same
//! transaction.

use chrono::NaiveDateTime;

use super::outbox::{new_activity_id, push_event, OutboxEvent};
use super::{Forum, Inner, Site, Thread, User};
use crate::db::thread_follows::{self as rows, ThreadFollow};
use crate::db::{self, forums, threads, users, Conn};
use crate::error::ForumError;

/// A thread claimed for filling in ([`Site::claim_fill_in`]).
#[derive(Debug, Clone)]
pub struct FillIn {
    /// Its context collection, when known.
    pub context_url: Option<String>,
    /// Never filled in before: what is read in is old, not news for its watchers.
    pub first: bool,
}

/// When a person here starts or stops watching a thread elsewhere: they follow it when nothing
/// else brings its new posts here (nobody here follows its forum), and stop following it when
/// they stop watching. Returns whether an outbox event was written.
pub(super) fn follow_on_watch(
    inner: &Inner,
    conn: &mut Conn<'_>,
    person: &User,
    thread: &Thread,
    forum: &Forum,
    watching: bool,
) -> Result<bool, ForumError> {
    if thread.local || !person.local || !inner.settings.federation.enabled {
        return Ok(false);
    }
    let existing = rows::find(conn, thread.id, person.id)?;
    match (watching, existing) {
        (true, None) if forum.local_followers == 0 => {
            let ap_id = new_activity_id(inner, "follow");
            let follow = rows::upsert(conn, thread.id, person.id, true, &ap_id, db::now())?;
            push_event(
                conn,
                &OutboxEvent::FollowThread {
                    follow_id: follow.id,
                },
            )?;
            Ok(true)
        }
        (false, Some(follow)) => {
            rows::delete(conn, follow.id)?;
            push_event(
                conn,
                &OutboxEvent::UnfollowThread {
                    thread_id: thread.id,
                    user_id: person.id,
                    follow_ap_id: follow.follow_ap_id,
                },
            )?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The last person here stopped following remote forum `forum_id`: nothing brings its posts
/// here any more, so the threads of it that people here watch are followed one by one.
pub(super) fn follow_watched_threads(
    inner: &Inner,
    conn: &mut Conn<'_>,
    forum_id: i64,
) -> Result<bool, ForumError> {
    let Some(forum) = forums::by_id(conn, forum_id)? else {
        return Ok(false);
    };
    if forum.local || forum.local_followers > 0 {
        return Ok(false);
    }
    let mut written = false;
    for thread_id in rows::watched_threads_of_forum(conn, forum_id)? {
        let Some(thread) = threads::by_id(conn, thread_id)? else {
            continue;
        };
        for user_id in rows::watchers_not_following(conn, thread_id)? {
            if let Some(person) = users::by_id(conn, user_id)? {
                written |= follow_on_watch(inner, conn, &person, &thread, &forum, true)?;
            }
        }
    }
    Ok(written)
}

fn thread_not_found() -> ForumError {
    ForumError::NotFound { what: "thread" }
}

impl Site {
    /// A person elsewhere follows our thread `thread_id` (their Follow named `object`: the
    /// thread's context, the thread, or one of its posts): accepted at once, and an `Accept`
    /// goes back. 404 for a thread that is not here, or that other servers may not see (in a
    /// members-only forum); 422 for one that lives elsewhere.
    pub async fn remote_follows_thread(
        &self,
        thread_id: i64,
        follower: User,
        follow_ap_id: String,
        object: String,
    ) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            let thread = threads::by_id(conn, thread_id)?.ok_or_else(thread_not_found)?;
            let forum = forums::by_id(conn, thread.forum_id)?
                .ok_or(ForumError::NotFound { what: "forum" })?;
            if forum.members_only() {
                return Err(thread_not_found());
            }
            if !thread.local || follower.local {
                return Err(ForumError::invalid(
                    "not_followable",
                    "object",
                    "Only threads started here can be followed here, by people elsewhere.",
                ));
            }
            conn.transaction(|conn| {
                rows::upsert(
                    conn,
                    thread.id,
                    follower.id,
                    false,
                    &follow_ap_id,
                    db::now(),
                )?;
                push_event(
                    conn,
                    &OutboxEvent::AcceptThreadFollow {
                        thread_id: thread.id,
                        follower_id: follower.id,
                        follow_ap_id,
                        object,
                    },
                )
            })
        })
        .await?;
        self.outbox_written();
        Ok(())
    }

    /// A person elsewhere stops following our thread. Returns false if they did not follow it.
    pub async fn remote_unfollows_thread(
        &self,
        thread_id: i64,
        follower_id: i64,
    ) -> Result<bool, ForumError> {
        self.blocking(move |_inner, conn| {
            Ok(match rows::find(conn, thread_id, follower_id)? {
                Some(follow) => rows::delete(conn, follow.id)? > 0,
                None => false,
            })
        })
        .await
    }

    /// The forum of a thread elsewhere answered the follow made by the Follow with this id
    /// (`forum_ap_id` is who answered): `accepted`, or refused (or later dropped), when the
    /// follow stays unanswered while its person watches the thread, which is then read from its
    /// context collection now and then instead. Returns the thread, or `None` when no such
    /// follow of a thread of that forum is here.
    pub async fn thread_follow_answered(
        &self,
        follow_ap_id: String,
        forum_ap_id: String,
        accepted: bool,
    ) -> Result<Option<i64>, ForumError> {
        self.blocking(move |_inner, conn| {
            let Some((follow, _)) = follow_of_forum(conn, &follow_ap_id, &forum_ap_id)? else {
                return Ok(None);
            };
            rows::set_pending(conn, follow.id, !accepted)?;
            Ok(Some(follow.thread_id))
        })
        .await
    }

    /// The inboxes of the people elsewhere who follow thread `thread_id` (one per server where
    /// it has a shared inbox).
    pub async fn thread_follower_inboxes(&self, thread_id: i64) -> Result<Vec<String>, ForumError> {
        self.blocking(move |_inner, conn| Ok(rows::remote_follower_inboxes(conn, thread_id)?))
            .await
    }

    /// How many people elsewhere follow thread `thread_id`.
    pub async fn thread_follower_count(&self, thread_id: i64) -> Result<i64, ForumError> {
        self.blocking(move |_inner, conn| Ok(rows::count_followers(conn, thread_id)?))
            .await
    }

    /// Whether a person here follows (accepted) a thread of remote forum `forum_id`.
    pub async fn thread_followed_in_forum(&self, forum_id: i64) -> Result<bool, ForumError> {
        self.blocking(move |_inner, conn| Ok(rows::followed_in_forum(conn, forum_id)?))
            .await
    }

    /// Whether person `user_id` follows (or asked to follow) thread `thread_id`, and whether
    /// it was accepted.
    pub async fn thread_follow_of(
        &self,
        user_id: i64,
        thread_id: i64,
    ) -> Result<Option<ThreadFollow>, ForumError> {
        self.blocking(move |_inner, conn| Ok(rows::find(conn, thread_id, user_id)?))
            .await
    }

    /// The follow row, its thread, the thread's forum and the follower (for turning a
    /// `FollowThread` event into JSON).
    pub async fn thread_follow_parts(
        &self,
        follow_id: i64,
    ) -> Result<Option<(ThreadFollow, Thread, Forum, User)>, ForumError> {
        self.blocking(move |_inner, conn| {
            let Some(follow) = rows::find_by_id(conn, follow_id)? else {
                return Ok(None);
            };
            let parts = thread_forum_user(conn, follow.thread_id, follow.follower_id)?;
            Ok(parts.map(|(t, f, u)| (follow, t, f, u)))
        })
        .await
    }

    /// A thread, its forum, and a person (for planning what a thread follow sends).
    pub async fn thread_forum_and_user(
        &self,
        thread_id: i64,
        user_id: i64,
    ) -> Result<Option<(Thread, Forum, User)>, ForumError> {
        self.blocking(move |_inner, conn| thread_forum_user(conn, thread_id, user_id))
            .await
    }

    /// Which of these ActivityPub ids are posts here already.
    pub async fn known_posts(
        &self,
        ap_ids: Vec<String>,
    ) -> Result<std::collections::HashSet<String>, ForumError> {
        self.blocking(move |_inner, conn| Ok(crate::db::remote_posts::known_ap_ids(conn, &ap_ids)?))
            .await
    }

    /// A thread elsewhere's context collection, as its opening post named it.
    pub async fn thread_context_url(&self, thread_id: i64) -> Result<Option<String>, ForumError> {
        self.blocking(move |_inner, conn| {
            Ok(rows::context(conn, thread_id)?.and_then(|(url, _)| url))
        })
        .await
    }

    /// Records a thread elsewhere's context collection.
    pub async fn set_thread_context_url(
        &self,
        thread_id: i64,
        url: String,
    ) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            rows::set_context_url(conn, thread_id, &url)?;
            Ok(())
        })
        .await
    }

    /// Claims thread `thread_id` (from elsewhere) for filling in from its context collection:
    /// `None` when that was done less than `federation.context_refresh_seconds` ago (unless
    /// `fresh`), or is being done now.
    pub async fn claim_fill_in(
        &self,
        thread_id: i64,
        fresh: bool,
    ) -> Result<Option<FillIn>, ForumError> {
        self.blocking(move |inner, conn| {
            let Some((context_url, fetched_at)) = rows::context(conn, thread_id)? else {
                return Ok(None);
            };
            let now = db::now();
            let stale_before = if fresh {
                now + chrono::Duration::seconds(1)
            } else {
                refresh_cutoff(inner, now)
            };
            if !rows::claim_fill_in(conn, thread_id, stale_before, now)? {
                return Ok(None);
            }
            Ok(Some(FillIn {
                context_url,
                first: fetched_at.is_none(),
            }))
        })
        .await
    }

    /// Threads elsewhere that people here watch but whose new posts nothing delivers here (a
    /// follow of the thread unanswered or refused, its forum not followed), due to be read again
    /// from their context collections (at most `limit`).
    pub async fn threads_to_refresh(&self, limit: i64) -> Result<Vec<i64>, ForumError> {
        self.blocking(move |inner, conn| {
            Ok(rows::unreached_watched(
                conn,
                refresh_cutoff(inner, db::now()),
                limit,
            )?)
        })
        .await
    }
}

/// A thread, its forum, and person `user_id`, when all three are there.
fn thread_forum_user(
    conn: &mut Conn<'_>,
    thread_id: i64,
    user_id: i64,
) -> Result<Option<(Thread, Forum, User)>, ForumError> {
    let Some(thread) = threads::by_id(conn, thread_id)? else {
        return Ok(None);
    };
    let forum = forums::by_id(conn, thread.forum_id)?;
    let user = users::by_id(conn, user_id)?;
    Ok(forum.zip(user).map(|(f, u)| (thread, f, u)))
}

/// Before when a conversation read from its context collection is due to be read again.
fn refresh_cutoff(inner: &Inner, now: NaiveDateTime) -> NaiveDateTime {
    let seconds = inner.settings.federation.context_refresh_seconds;
    now - chrono::Duration::milliseconds((seconds * 1000.0) as i64)
}

/// The follow made by the Follow with this id, when it is of a thread of the forum
/// `forum_ap_id` (only that forum may answer it).
fn follow_of_forum(
    conn: &mut Conn<'_>,
    follow_ap_id: &str,
    forum_ap_id: &str,
) -> Result<Option<(ThreadFollow, Thread)>, ForumError> {
    let Some(follow) = rows::by_follow_ap_id(conn, follow_ap_id)? else {
        return Ok(None);
    };
    let Some(thread) = threads::by_id(conn, follow.thread_id)? else {
        return Ok(None);
    };
    let forum = forums::by_id(conn, thread.forum_id)?;
    if forum.and_then(|f| f.ap_id).as_deref() != Some(forum_ap_id) {
        return Ok(None);
    }
    Ok(Some((follow, thread)))
}
