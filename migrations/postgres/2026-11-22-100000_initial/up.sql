-- The single-instance forum. Every account, forum, thread and post has a `local` flag and an
-- `ap_id` (NULL for local rows, whose canonical URL derives from server.public_url) so that
-- remote rows can live in the same tables once federation arrives.

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    local BOOLEAN NOT NULL DEFAULT TRUE,
    domain TEXT,
    ap_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_local_name ON users (name) WHERE local;
CREATE UNIQUE INDEX users_ap_id ON users (ap_id);
CREATE INDEX users_admins ON users (is_admin) WHERE is_admin;

CREATE TABLE sessions (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, failed_at);
CREATE INDEX login_failures_failed_at ON login_failures (failed_at);

CREATE TABLE forums (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    local BOOLEAN NOT NULL DEFAULT TRUE,
    domain TEXT,
    ap_id TEXT,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    thread_count BIGINT NOT NULL DEFAULT 0,
    post_count BIGINT NOT NULL DEFAULT 0,
    last_activity_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX forums_local_name ON forums (name) WHERE local;
-- The forum list: open forums first, then by title.
CREATE INDEX forums_listing ON forums (archived, title, id);
CREATE UNIQUE INDEX forums_ap_id ON forums (ap_id);

CREATE TABLE threads (
    id BIGSERIAL PRIMARY KEY,
    forum_id BIGINT NOT NULL REFERENCES forums (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    pinned BOOLEAN NOT NULL DEFAULT FALSE,
    local BOOLEAN NOT NULL DEFAULT TRUE,
    ap_id TEXT,
    reply_count BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    last_activity_at TIMESTAMP NOT NULL
);
-- The forum page: pinned first, then latest activity.
CREATE INDEX threads_forum_listing ON threads (forum_id, pinned DESC, last_activity_at DESC, id DESC);
-- A forum's feed: its newest threads.
CREATE INDEX threads_forum_created ON threads (forum_id, created_at, id);
CREATE UNIQUE INDEX threads_ap_id ON threads (ap_id);

CREATE TABLE posts (
    id BIGSERIAL PRIMARY KEY,
    thread_id BIGINT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES users (id),
    in_reply_to_id BIGINT REFERENCES posts (id),
    is_opening BOOLEAN NOT NULL,
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    local BOOLEAN NOT NULL DEFAULT TRUE,
    ap_id TEXT,
    created_at TIMESTAMP NOT NULL,
    edited_at TIMESTAMP,
    deleted_at TIMESTAMP
);
-- The thread page: replies oldest first; and finding the one opening post.
CREATE INDEX posts_thread_replies ON posts (thread_id, is_opening, created_at, id);
CREATE UNIQUE INDEX posts_opening ON posts (thread_id) WHERE is_opening;
-- The profile page: what a person wrote, newest first.
CREATE INDEX posts_author ON posts (author_id, created_at, id);
CREATE INDEX posts_in_reply_to ON posts (in_reply_to_id);
CREATE UNIQUE INDEX posts_ap_id ON posts (ap_id);

-- Earlier versions of edited posts (the title too, for opening posts).
CREATE TABLE post_revisions (
    id BIGSERIAL PRIMARY KEY,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    title TEXT,
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    written_at TIMESTAMP NOT NULL,
    replaced_at TIMESTAMP NOT NULL
);
CREATE INDEX post_revisions_post ON post_revisions (post_id, id);
