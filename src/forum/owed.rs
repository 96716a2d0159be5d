//! What storing a post leaves to be written after it, in the same transaction: the activity
//! recorded as received, the relay our forum owes its followers, the people told, the post's
//! words indexed. Gathered per post, and written for a whole batch of posts at once: a batch of
//! replies from elsewhere (see [`super::group_commit`]) runs one statement of each kind on
//! PostgreSQL instead of one per reply (each a round trip, with the batch's locks held).

use super::outbox::{event_json, OutboxEvent};
use crate::db::notifications::{self as rows, Watched};
use crate::db::{self, outbox, received, search, Conn};
use crate::error::ForumError;

/// See the module's documentation.
#[derive(Debug, Default)]
pub(super) struct Owed {
    /// Activity ids to record as received.
    received: Vec<String>,
    /// Outbox events (JSON), in the order they happened.
    events: Vec<String>,
    /// People to tell: `(user, post, kind)`, for each post the strongest kind first.
    told: Vec<(i64, i64, &'static str)>,
    /// New posts whose thread's and forum's watchers are told (after `told`, which wins).
    watched: Vec<Watched>,
    /// New posts whose words to index: `(post, title, html)`.
    words: Vec<(i64, String, String)>,
}

impl Owed {
    /// Records the activity `ap_id` as received.
    pub(super) fn received(&mut self, ap_id: String) {
        self.received.push(ap_id);
    }

    /// Writes `event` into the outbox.
    pub(super) fn event(&mut self, event: &OutboxEvent) -> Result<(), ForumError> {
        self.events.push(event_json(event)?);
        Ok(())
    }

    /// Tells `user_ids` about `post_id` as `kind` (unless told of it before).
    pub(super) fn tell(&mut self, user_ids: &[i64], post_id: i64, kind: &'static str) {
        self.told
            .extend(user_ids.iter().map(|&user| (user, post_id, kind)));
    }

    /// Tells those watching the post's thread or forum.
    pub(super) fn watched(&mut self, post: Watched) {
        self.watched.push(post);
    }

    /// Indexes a new post's words: `title` (its thread's, for an opening post) and `html`.
    pub(super) fn words(&mut self, post_id: i64, title: &str, html: &str) {
        self.words.push((post_id, title.into(), html.into()));
    }

    /// Writes this.
    pub(super) fn write(&self, conn: &mut Conn<'_>) -> Result<(), ForumError> {
        Owed::write_all(conn, [self])
    }

    /// Writes what several posts owe: one statement of each kind for them all.
    pub(super) fn write_all<'a>(
        conn: &mut Conn<'_>,
        all: impl IntoIterator<Item = &'a Owed>,
    ) -> Result<(), ForumError> {
        let (mut received, mut events, mut told, mut watched, mut words) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for owed in all {
            received.extend(owed.received.iter().map(String::as_str));
            events.extend(owed.events.iter().map(String::as_str));
            told.extend(owed.told.iter().copied());
            watched.extend(owed.watched.iter().copied());
            words.extend(
                owed.words
                    .iter()
                    .map(|(id, title, html)| (*id, title.as_str(), html.as_str())),
            );
        }
        let at = db::now();
        received::record_each(conn, &received, at)?;
        outbox::push_events(conn, &events, at)?;
        rows::notify_each(conn, &told, at)?;
        rows::notify_watchers_each(conn, &watched, at)?;
        search::index_each(conn, &words)?;
        Ok(())
    }
}
