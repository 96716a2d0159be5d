DROP TABLE moderation_log;
DROP TABLE forum_moderators;
ALTER TABLE threads DROP COLUMN locked_by_id;
ALTER TABLE threads DROP COLUMN locked_at;
