ALTER TABLE threads DROP COLUMN context_fetched_at;
ALTER TABLE threads DROP COLUMN context_url;
DROP TABLE thread_follows;
