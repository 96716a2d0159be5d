-- How many posts each person has shown (neither deleted nor removed) in each forum: a profile's
-- "N threads started, M replies" is the sum over the forums its reader may see, instead of a
-- count of everything the person ever wrote on every view (a writer of 16,000 replies: 107
-- profile pages a second). A new post is counted by the code that stores it
-- (`db::author_counts::add`, after the thread's and forum's counts, so that concurrent writers
-- take these rows in one order), as is a thread moved to another forum
-- (`db::author_counts::move_thread`); a post deleted, removed or restored, by the trigger below,
-- whatever code changes it.
CREATE TABLE author_counts (
    author_id BIGINT NOT NULL REFERENCES users (id),
    forum_id BIGINT NOT NULL REFERENCES forums (id),
    threads BIGINT NOT NULL DEFAULT 0,
    replies BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (author_id, forum_id)
);
INSERT INTO author_counts (author_id, forum_id, threads, replies)
SELECT p.author_id, t.forum_id,
       SUM(CASE WHEN p.is_opening THEN 1 ELSE 0 END),
       SUM(CASE WHEN p.is_opening THEN 0 ELSE 1 END)
FROM posts p JOIN threads t ON t.id = p.thread_id
WHERE p.deleted_at IS NULL AND p.removed_at IS NULL
GROUP BY p.author_id, t.forum_id;

-- A post leaves its author's counts when deleted or removed, and comes back when restored.
CREATE FUNCTION staffroom_post_shown_counted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta BIGINT := CASE WHEN NEW.deleted_at IS NULL AND NEW.removed_at IS NULL THEN 1 ELSE -1 END;
BEGIN
    INSERT INTO author_counts AS c (author_id, forum_id, threads, replies)
    SELECT NEW.author_id, t.forum_id,
           CASE WHEN NEW.is_opening THEN delta ELSE 0 END,
           CASE WHEN NEW.is_opening THEN 0 ELSE delta END
    FROM threads t WHERE t.id = NEW.thread_id
    ON CONFLICT (author_id, forum_id) DO UPDATE SET
        threads = c.threads + excluded.threads,
        replies = c.replies + excluded.replies;
    RETURN NULL;
END
$$;
CREATE TRIGGER posts_shown_counted AFTER UPDATE OF deleted_at, removed_at ON posts
FOR EACH ROW
WHEN ((OLD.deleted_at IS NULL AND OLD.removed_at IS NULL)
      IS DISTINCT FROM (NEW.deleted_at IS NULL AND NEW.removed_at IS NULL))
EXECUTE FUNCTION staffroom_post_shown_counted();

