-- Registration control: an e-mail address given at registration (checked against the allowed
-- domains), applications waiting for an administrator's approval, and invitations.
ALTER TABLE users ADD COLUMN email TEXT;
-- Registered by application and not approved yet: cannot log in.
ALTER TABLE users ADD COLUMN pending BOOLEAN NOT NULL DEFAULT FALSE;
-- The applicant's answer to the instance's question.
ALTER TABLE users ADD COLUMN application TEXT;
-- The applications waiting, oldest first.
CREATE INDEX users_pending ON users (created_at, id) WHERE pending;

-- Single-use invitations made by administrators; only a digest of each code is kept.
CREATE TABLE invites (
    id BIGSERIAL PRIMARY KEY,
    code_hash TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    used_by_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    used_at TIMESTAMP
);
CREATE UNIQUE INDEX invites_code ON invites (code_hash);
