-- What software each server runs (NodeInfo's software.name), so a forum sends each follower's
-- server only the activities its software reads (see federation::software).
ALTER TABLE instances ADD COLUMN software TEXT;
ALTER TABLE instances ADD COLUMN software_checked_at TIMESTAMP;
