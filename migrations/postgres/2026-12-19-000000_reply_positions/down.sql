DROP INDEX posts_thread_positions;
ALTER TABLE posts DROP COLUMN position;
