-- Posts removed by a moderator: hidden from readers (moderators still see them), with who removed
-- them and why; restoring clears these. Unlike an author's deletion, nothing is lost.
ALTER TABLE posts ADD COLUMN removed_at TIMESTAMP;
ALTER TABLE posts ADD COLUMN removed_by_id BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE posts ADD COLUMN removal_reason TEXT;
