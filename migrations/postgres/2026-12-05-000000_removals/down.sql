ALTER TABLE posts DROP COLUMN removal_reason;
ALTER TABLE posts DROP COLUMN removed_by_id;
ALTER TABLE posts DROP COLUMN removed_at;
