ALTER TABLE forums DROP COLUMN posting_restricted_to_mods;
