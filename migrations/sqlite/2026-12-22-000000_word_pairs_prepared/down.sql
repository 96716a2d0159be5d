-- Nothing on SQLite (PostgreSQL's phrase index function becomes PL/pgSQL here; the
-- migrations of both stay in step).
SELECT 1;
