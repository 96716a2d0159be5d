-- Bans: a person kept from posting in one forum (forum_id) or anywhere here (forum_id NULL),
-- with who banned them, why, and until when (NULL: until lifted).
CREATE TABLE bans (
    id BIGSERIAL PRIMARY KEY,
    forum_id BIGINT REFERENCES forums (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    banned_by_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    reason TEXT NOT NULL,
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
-- One ban per person and forum, and one from the whole instance.
CREATE UNIQUE INDEX bans_in_forum ON bans (user_id, forum_id) WHERE forum_id IS NOT NULL;
CREATE UNIQUE INDEX bans_on_instance ON bans (user_id) WHERE forum_id IS NULL;
-- The check before every post: this person's bans.
CREATE INDEX bans_person ON bans (user_id, forum_id);
-- A forum's bans, newest first.
CREATE INDEX bans_forum ON bans (forum_id, id);
