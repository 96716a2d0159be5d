-- How far each reader has read each thread: the number of its posts (the opening post, then
-- replies in order) they have seen. The forum page counts what is new from it, and "first
-- unread" goes to the post after it.
CREATE TABLE thread_reads (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thread_id BIGINT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    posts_read BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, thread_id)
);
