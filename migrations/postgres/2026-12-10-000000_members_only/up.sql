-- Members-only forums: read and written only by their members (and moderators and
-- administrators), never served to anyone else nor federated.

-- `public` (everyone, and the fediverse) or `members`.
ALTER TABLE forums ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';
-- The members-only forums, found without reading every forum.
CREATE INDEX forums_visibility ON forums (visibility) WHERE local;
-- A members-only forum whose members are everyone with an account here.
ALTER TABLE forums ADD COLUMN all_accounts_are_members BOOLEAN NOT NULL DEFAULT FALSE;

-- Who may read and post in a members-only forum (people of this instance only).
CREATE TABLE forum_members (
    id BIGSERIAL PRIMARY KEY,
    forum_id BIGINT NOT NULL REFERENCES forums (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_by_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX forum_members_pair ON forum_members (forum_id, user_id);
CREATE INDEX forum_members_user ON forum_members (user_id);
