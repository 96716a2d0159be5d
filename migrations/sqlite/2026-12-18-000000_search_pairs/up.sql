-- Nothing on SQLite: FTS5 finds a phrase from its index's positions directly. (PostgreSQL
-- indexes pairs of adjacent words here; the migrations of both stay in step.)
SELECT 1;
