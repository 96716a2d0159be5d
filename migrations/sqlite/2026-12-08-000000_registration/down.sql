DROP TABLE invites;
DROP INDEX users_pending;
ALTER TABLE users DROP COLUMN application;
ALTER TABLE users DROP COLUMN pending;
ALTER TABLE users DROP COLUMN email;
