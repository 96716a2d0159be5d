-- Reports: a person (here or elsewhere) tells a forum's moderators that a post needs their
-- attention, saying why; a moderator resolves or dismisses it.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    forum_id BIGINT NOT NULL REFERENCES forums (id) ON DELETE CASCADE,
    reporter_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    -- The Flag's id: ours when sent elsewhere, the sender's when received.
    ap_id TEXT,
    created_at TIMESTAMP NOT NULL,
    -- 'resolved' or 'dismissed' once a moderator has dealt with it.
    outcome TEXT,
    closed_by_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    closed_at TIMESTAMP
);
-- One open report per person and post.
CREATE UNIQUE INDEX reports_open_pair ON reports (post_id, reporter_id) WHERE closed_at IS NULL;
-- A forum's queue, newest first.
CREATE INDEX reports_queue ON reports (forum_id, id);
-- A Flag received twice is one report.
CREATE UNIQUE INDEX reports_ap_id ON reports (ap_id);
