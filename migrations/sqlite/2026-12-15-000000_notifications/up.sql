-- Keeping up: watching threads and forums, notifications, and who each post mentions.

-- Whether the reader watches the thread: NULL (never chose), TRUE (watching: new posts notify
-- them) or FALSE (they stopped; writing in the thread again does not start it).
ALTER TABLE thread_reads ADD COLUMN watching BOOLEAN;
-- The watchers of a thread, found without reading every reader of it.
CREATE INDEX thread_reads_watchers ON thread_reads (thread_id, user_id) WHERE watching;

-- Forums a person watches: every new thread and reply in them notifies them.
CREATE TABLE forum_watches (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    forum_id BIGINT NOT NULL REFERENCES forums (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, forum_id)
);
CREATE INDEX forum_watches_forum ON forum_watches (forum_id, user_id);

-- Whether starting or replying to a thread watches it (a person's setting).
ALTER TABLE users ADD COLUMN watch_on_post BOOLEAN NOT NULL DEFAULT 1;

-- What a person is told about: one row per person and post, of the strongest kind that applies
-- (`mention`, then `quote`, then `reply`, then `watched`).
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE UNIQUE INDEX notifications_pair ON notifications (user_id, post_id);
-- A person's notifications, newest first.
CREATE INDEX notifications_user ON notifications (user_id, id);
-- Their unread ones (the header's count).
CREATE INDEX notifications_unread ON notifications (user_id, id) WHERE read_at IS NULL;
CREATE INDEX notifications_post ON notifications (post_id);

-- The people a post mentions (`@name`, `@name@domain`): its `Mention` tags on the wire.
CREATE TABLE post_mentions (
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX post_mentions_user ON post_mentions (user_id);
