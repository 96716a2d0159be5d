-- Federation: remote actors, follows, the durable outbox and per-instance delivery queue.

-- Where remote people and forums receive activities, and when they were last fetched.
ALTER TABLE users ADD COLUMN inbox_url TEXT;
ALTER TABLE users ADD COLUMN shared_inbox_url TEXT;
ALTER TABLE users ADD COLUMN profile_url TEXT;
ALTER TABLE users ADD COLUMN last_refreshed_at TIMESTAMP;
CREATE INDEX users_remote_handle ON users (domain, name);

ALTER TABLE forums ADD COLUMN inbox_url TEXT;
ALTER TABLE forums ADD COLUMN shared_inbox_url TEXT;
ALTER TABLE forums ADD COLUMN outbox_url TEXT;
ALTER TABLE forums ADD COLUMN profile_url TEXT;
ALTER TABLE forums ADD COLUMN last_refreshed_at TIMESTAMP;
-- How many local people follow this (remote) forum: it is listed while this is above zero.
ALTER TABLE forums ADD COLUMN local_followers BIGINT NOT NULL DEFAULT 0;
CREATE INDEX forums_remote_handle ON forums (domain, name);

-- Who follows which forum: remote people following local forums, local people following remote
-- ones. `pending` until the forum accepts. `follow_ap_id` is the Follow activity's id, which an
-- Accept or Undo names.
CREATE TABLE forum_follows (
    id BIGSERIAL PRIMARY KEY,
    forum_id BIGINT NOT NULL REFERENCES forums (id) ON DELETE CASCADE,
    follower_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pending BOOLEAN NOT NULL,
    follow_ap_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX forum_follows_pair ON forum_follows (forum_id, follower_id);
CREATE INDEX forum_follows_follower ON forum_follows (follower_id);
CREATE INDEX forum_follows_ap_id ON forum_follows (follow_ap_id);

-- Ids of activities received, so a repeat is acknowledged and ignored.
CREATE TABLE received_activities (
    id BIGSERIAL PRIMARY KEY,
    ap_id TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX received_activities_ap_id ON received_activities (ap_id);
CREATE INDEX received_activities_at ON received_activities (received_at);

-- What must be told to other servers, written in the same transaction as the change itself.
-- `event` is JSON naming what happened (a post created, a follow accepted, ...); the delivery
-- worker turns it into activities and deliveries, then sets `expanded_at`.
CREATE TABLE outbox_events (
    id BIGSERIAL PRIMARY KEY,
    event TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expanded_at TIMESTAMP
);
CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE expanded_at IS NULL;

-- Activities this instance has sent, as sent (also served at their id).
CREATE TABLE activities (
    id BIGSERIAL PRIMARY KEY,
    ap_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    signer_user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    signer_forum_id BIGINT REFERENCES forums (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX activities_ap_id ON activities (ap_id);

-- Other servers this one talks to, with the state of delivery to each.
CREATE TABLE instances (
    id BIGSERIAL PRIMARY KEY,
    domain TEXT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    failing_since TIMESTAMP,
    dead BOOLEAN NOT NULL DEFAULT FALSE,
    last_error TEXT,
    last_success_at TIMESTAMP,
    last_heard_at TIMESTAMP,
    lease_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX instances_domain ON instances (domain);

-- One activity to one inbox, waiting to be sent. Sent in id order per instance; deleted once
-- the inbox has taken it.
CREATE TABLE deliveries (
    id BIGSERIAL PRIMARY KEY,
    activity_id BIGINT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    instance_id BIGINT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    inbox_url TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX deliveries_queue ON deliveries (instance_id, id);
CREATE INDEX deliveries_activity ON deliveries (activity_id);
