-- `staffroom_word_pairs` (the phrase index's pairs of adjacent words, computed for every post
-- stored) becomes PL/pgSQL, whose statement is planned once per connection. As a SQL function
-- that cannot be inlined, its query was parsed and planned again for every post inserted
-- (measured with one client inserting into a table of this shape: 0.69 ms an insert, 0.40 ms
-- with PL/pgSQL, 0.22 ms without the column). Same query, same result.
CREATE OR REPLACE FUNCTION staffroom_word_pairs(doc TSVECTOR) RETURNS TSVECTOR
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
BEGIN
    RETURN (
        WITH words AS (
            SELECT w.lexeme, p
            FROM unnest(doc) AS w (lexeme, positions, weights), unnest(w.positions) AS p
        )
        SELECT coalesce(array_to_tsvector(array_agg(DISTINCT a.lexeme || ' ' || b.lexeme)), ''::tsvector)
        FROM words a JOIN words b ON b.p = a.p + 1
        WHERE octet_length(a.lexeme) + octet_length(b.lexeme) < 2000
    );
END
$$;
