DROP INDEX outbox_events_created;
DROP INDEX activities_created;
