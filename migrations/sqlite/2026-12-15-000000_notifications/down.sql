DROP TABLE post_mentions;
DROP TABLE notifications;
ALTER TABLE users DROP COLUMN watch_on_post;
DROP TABLE forum_watches;
DROP INDEX thread_reads_watchers;
ALTER TABLE thread_reads DROP COLUMN watching;
