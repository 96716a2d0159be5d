-- Lemmy's postingRestrictedToMods: in such a forum only its moderators start threads (anyone
-- may still reply). Ours is set by administrators; a forum elsewhere says it in its Group.
ALTER TABLE forums ADD COLUMN posting_restricted_to_mods BOOLEAN NOT NULL DEFAULT FALSE;
