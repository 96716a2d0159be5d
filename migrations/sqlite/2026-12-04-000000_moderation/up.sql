-- Moderation: who moderates which forum, locked threads, and the log of every moderator's action.

-- A locked thread takes no new replies; who locked it is shown.
ALTER TABLE threads ADD COLUMN locked_at TIMESTAMP;
ALTER TABLE threads ADD COLUMN locked_by_id BIGINT REFERENCES users (id) ON DELETE SET NULL;

-- Moderators of a forum (people here or elsewhere). Administrators moderate every forum
-- without a row here.
CREATE TABLE forum_moderators (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    forum_id BIGINT NOT NULL REFERENCES forums (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    appointed_by_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX forum_moderators_pair ON forum_moderators (forum_id, user_id);
CREATE INDEX forum_moderators_user ON forum_moderators (user_id);

-- What moderators did, with why: listed per forum, newest first.
CREATE TABLE moderation_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    forum_id BIGINT REFERENCES forums (id) ON DELETE CASCADE,
    moderator_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    thread_id BIGINT REFERENCES threads (id) ON DELETE SET NULL,
    post_id BIGINT REFERENCES posts (id) ON DELETE SET NULL,
    person_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX moderation_log_forum ON moderation_log (forum_id, id);
