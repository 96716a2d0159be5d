ALTER TABLE instances DROP COLUMN lease_owner;
