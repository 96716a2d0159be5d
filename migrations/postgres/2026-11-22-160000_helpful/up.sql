-- "Helpful" marks on posts (ActivityPub Like), from people here and elsewhere.
ALTER TABLE posts ADD COLUMN helpful_count BIGINT NOT NULL DEFAULT 0;

CREATE TABLE helpful_marks (
    id BIGSERIAL PRIMARY KEY,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The Like activity's id (ours, or the remote one we received).
    like_ap_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX helpful_marks_pair ON helpful_marks (post_id, user_id);
CREATE INDEX helpful_marks_user ON helpful_marks (user_id, post_id);
CREATE INDEX helpful_marks_like ON helpful_marks (like_ap_id);
