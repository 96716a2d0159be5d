//! Replies sent straight to us by their authors, the common case of federation by far: a new
//! reply, from the server it lives on, to a post already here in one of our forums. Each is
//! stored in a batch with the replies that arrive meanwhile (see [`super::group_commit`]):
//! what they read alike is read once for the batch, what they leave behind (their receipt,
//! words, notifications and the relays the forum owes) is written once for it, and they are
//! counted together just before the commit. Anything that needs another server is left to the
//! long way ([`Site::receive_post`]).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use super::incoming::{count_replies_stored, insert_post, Counted, Relay};
use super::moderation::{require_not_banned, require_unlocked};
use super::owed::Owed;
use super::remote::IncomingPost;
use super::visibility::require_federated;
use super::{Forum, Post, Site, Thread, User};
use crate::db::{self, bans, posts, received, remote_posts, users, Conn};
use crate::error::ForumError;

/// Where a reply sent straight to us by its author answers, as far as it can be told without
/// asking another server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Answered {
    /// A thread of ours (`/t/{id}`): its opening post.
    OurThread(i64),
    /// A post of ours (`/p/{id}`).
    OurPost(i64),
    /// A post from elsewhere, by its ActivityPub id.
    Elsewhere(String),
}

/// A reply sent straight to us by its author, to be handled in one go.
#[derive(Debug, Clone)]
pub struct DirectReply {
    /// The activity's id (a repeat is acknowledged and ignored).
    pub activity_id: String,
    /// The author's ActivityPub id (who signed the activity).
    pub author: String,
    /// The author as read when their signature was checked, when that was a person stored
    /// here (then not read again).
    pub signer: Option<User>,
    /// The post it answers.
    pub answers: Answered,
    /// The reply.
    pub incoming: IncomingPost,
    /// The activity, for our forum to pass on.
    pub relay: Relay,
}

/// What [`Site::receive_direct_reply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectOutcome {
    /// Stored, relayed where the forum is ours, and the activity recorded as received.
    Stored,
    /// The activity, or the post, was here already: acknowledged, nothing changed.
    Repeat,
    /// The author or the post answered is not here, or the thread lives on another server:
    /// the long way must fetch or check it.
    LongWay,
}

/// What one reply of a batch did (see [`Site::receive_direct_reply`]).
pub(super) struct DirectStored {
    outcome: DirectOutcome,
    /// Whether a relay was recorded.
    relayed: bool,
    /// What it adds to the counts, when stored.
    counted: Option<Counted>,
    /// What it leaves to be written with the rest of its batch.
    owed: Owed,
}

/// What the replies of one batch read alike, read once for the batch (see
/// [`super::group_commit::Work`]): the post each answers, with its author, thread and forum,
/// and who is banned from each forum. Only posts found are kept (the post a
/// reply answers may be stored by another reply of the batch).
#[derive(Default)]
pub(super) struct BatchReads {
    answered: HashMap<Answered, Answering>,
    /// By forum: who a ban keeps from posting there.
    kept_out: HashMap<i64, HashSet<i64>>,
}

/// A post answered, with its author, thread and forum.
type Answering = (Post, User, Thread, Forum);

impl BatchReads {
    /// The post `answers` names, with its author, thread and forum, when it is here.
    fn answered(
        &mut self,
        conn: &mut Conn<'_>,
        answers: &Answered,
    ) -> Result<Option<Answering>, ForumError> {
        if let Some(known) = self.answered.get(answers) {
            return Ok(Some(known.clone()));
        }
        let found = match answers {
            Answered::OurThread(id) => posts::opening_with_context(conn, *id)?,
            Answered::OurPost(id) => posts::with_context(conn, *id)?,
            Answered::Elsewhere(ap_id) => match remote_posts::by_ap_id(conn, ap_id)? {
                Some(post) => posts::with_context(conn, post.id)?,
                None => None,
            },
        };
        if let Some(found) = &found {
            self.answered.insert(answers.clone(), found.clone());
        }
        Ok(found)
    }

    /// Refuses `author` if a ban keeps them from posting in `forum` (see
    /// [`require_not_banned`]): who is banned from a forum is read once for the batch.
    fn require_not_banned(
        &mut self,
        conn: &mut Conn<'_>,
        author: &User,
        forum: &Forum,
    ) -> Result<(), ForumError> {
        let kept_out = match self.kept_out.entry(forum.id) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(unknown) => unknown.insert(
                bans::people_kept_out(conn, forum.id, db::now())?
                    .into_iter()
                    .collect(),
            ),
        };
        if kept_out.contains(&author.id) {
            // Read again whole, for what the ban says (and whether it binds them).
            require_not_banned(conn, author, forum)?;
        }
        Ok(())
    }
}

/// Finishes a batch of replies: writes what they owe (one statement of each kind), then counts
/// them, each thread and forum row updated once however many replies it got, in id order (so
/// that two batches never wait on each other's rows in a circle), at the end, just before the
/// commit (see [`count_new_post`]).
pub(super) fn finish_stored_replies(
    conn: &mut Conn<'_>,
    stored: &[&DirectStored],
) -> Result<(), ForumError> {
    Owed::write_all(conn, stored.iter().map(|s| &s.owed))?;
    count_replies_stored(conn, stored.iter().filter_map(|s| s.counted))
}

impl Site {
    /// A reply sent straight to us by its author, whose answered post is here, stored in one
    /// savepoint of a transaction shared with the replies that arrive meanwhile (see
    /// [`super::group_commit`]): a repeated activity or post is acknowledged; otherwise the
    /// author and the post answered are read, the reply stored, the relay our forum owes
    /// recorded, and the activity recorded as received; the batch's replies are counted
    /// together before the commit. Anything that needs another server (an unknown author or
    /// parent, a thread living elsewhere) is left to the long way.
    pub async fn receive_direct_reply(
        &self,
        reply: DirectReply,
    ) -> Result<DirectOutcome, ForumError> {
        let DirectReply {
            activity_id,
            author,
            signer,
            answers,
            incoming,
            relay,
        } = reply;
        let (incoming, rendered) = self.prepare(incoming);
        let inner = self.inner.clone();
        let store = move |conn: &mut Conn<'_>, batch: &mut BatchReads| {
            let unchanged = |outcome| DirectStored {
                outcome,
                relayed: false,
                counted: None,
                owed: Owed::default(),
            };
            let mut attempt = |conn: &mut Conn<'_>| {
                let read;
                let author = match &signer {
                    Some(signer) if signer.ap_id.as_deref() == Some(author.as_str()) => signer,
                    _ => match users::by_ap_id(conn, &author)? {
                        Some(user) => {
                            read = user;
                            &read
                        }
                        None => return Ok(unchanged(DirectOutcome::LongWay)),
                    },
                };
                let Some((parent, parent_author, thread, forum)) =
                    batch.answered(conn, &answers)?
                else {
                    return Ok(unchanged(DirectOutcome::LongWay));
                };
                if !forum.local {
                    // Only that forum's own server may put a reply there: checked the long way.
                    return Ok(unchanged(DirectOutcome::LongWay));
                }
                require_federated(&forum, "post")?;
                super::forums::require_open(&forum)?;
                batch.require_not_banned(conn, author, &forum)?;
                require_unlocked(conn, &thread, &forum, Some(author))?;
                let mut owed = Owed::default();
                let stored = insert_post(
                    &inner,
                    conn,
                    author,
                    (&thread, &forum),
                    Some((parent.id, &parent_author)),
                    (&incoming, &rendered),
                    Some(relay.clone()),
                    &mut owed,
                )?;
                owed.received(activity_id.clone());
                let Some((post, relayed)) = stored else {
                    // The post came before, in another activity.
                    return Ok(DirectStored {
                        owed,
                        ..unchanged(DirectOutcome::Repeat)
                    });
                };
                Ok(DirectStored {
                    outcome: DirectOutcome::Stored,
                    relayed,
                    owed,
                    counted: Some(Counted::reply(&thread, &forum, &post)),
                })
            };
            match attempt(conn) {
                // A repeat is acknowledged, not refused (its thread may have been locked
                // since, or its author banned): looked for only when refusing, as a repeat that
                // would be stored again is recognised by its post's id.
                Err(refused) => match received::seen(conn, &activity_id) {
                    Ok(true) => Ok(unchanged(DirectOutcome::Repeat)),
                    _ => Err(refused),
                },
                stored => stored,
            }
        };
        let stored = self
            .together(|inner| &inner.direct_replies, Box::new(store))
            .await?;
        if stored.relayed {
            self.outbox_written();
        }
        Ok(stored.outcome)
    }
}
