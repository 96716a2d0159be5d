ALTER TABLE instances DROP COLUMN software_checked_at;
ALTER TABLE instances DROP COLUMN software;
