-- Servers administrators blocked from /admin/instances (the configuration file's
-- federation.blocked_instances still count too): no activity is taken from them, nothing is
-- fetched from or delivered to them.
CREATE TABLE instance_blocks (
    id BIGSERIAL PRIMARY KEY,
    domain TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_by_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX instance_blocks_domain ON instance_blocks (domain);
