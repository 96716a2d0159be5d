-- Sent activities and outbox events are forgotten after a while (housekeeping), oldest first.
CREATE INDEX activities_created ON activities (created_at);
CREATE INDEX outbox_events_created ON outbox_events (created_at);
