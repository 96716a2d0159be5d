DROP TABLE forum_members;
DROP INDEX forums_visibility;
ALTER TABLE forums DROP COLUMN all_accounts_are_members;
ALTER TABLE forums DROP COLUMN visibility;
