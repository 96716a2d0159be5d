-- Each reply's place in its thread: 1 for the first, in the order they were written (created_at,
-- then id), so that a page of a long thread is found by its positions instead of by skipping
-- every reply before it (page 500 of a thread of 16,000 replies read 15,000 rows to show 30).
-- Kept by the writes that add replies (`db::posts::place_replies`); opening posts have none.
-- Posts are never deleted from the table (a deleted post stays as a tombstone in its place).
ALTER TABLE posts ADD COLUMN position BIGINT;
UPDATE posts SET position = numbered.n
FROM (
    SELECT id, ROW_NUMBER() OVER (PARTITION BY thread_id ORDER BY created_at, id) AS n
    FROM posts WHERE NOT is_opening
) AS numbered
WHERE posts.id = numbered.id;
CREATE INDEX posts_thread_positions ON posts (thread_id, position);
