-- Following one thread from anywhere (see FEDERATION.md, "Following a thread").

-- Who follows which single thread. A person elsewhere following one of our threads (accepted
-- at once; the forum then delivers that thread's activities to them), or a person here
-- following a thread elsewhere whose forum nobody here follows (pending until accepted).
CREATE TABLE thread_follows (
    id BIGSERIAL PRIMARY KEY,
    thread_id BIGINT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    follower_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pending BOOLEAN NOT NULL,
    follow_ap_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX thread_follows_pair ON thread_follows (thread_id, follower_id);
CREATE INDEX thread_follows_follower ON thread_follows (follower_id);
CREATE INDEX thread_follows_ap_id ON thread_follows (follow_ap_id);
-- Follows from here that their server has not accepted: those threads are read again from
-- their context collections now and then.
CREATE INDEX thread_follows_pending ON thread_follows (thread_id) WHERE pending;

-- A thread from elsewhere: its context collection (FEP-7888), from which the conversation is
-- filled in (FEP-f228), and when that was last done.
ALTER TABLE threads ADD COLUMN context_url TEXT;
ALTER TABLE threads ADD COLUMN context_fetched_at TIMESTAMP;
