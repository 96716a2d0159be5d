CREATE OR REPLACE FUNCTION staffroom_word_pairs(doc TSVECTOR) RETURNS TSVECTOR
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    WITH words AS (
        SELECT w.lexeme, p
        FROM unnest(doc) AS w (lexeme, positions, weights), unnest(w.positions) AS p
    )
    SELECT coalesce(array_to_tsvector(array_agg(DISTINCT a.lexeme || ' ' || b.lexeme)), ''::tsvector)
    FROM words a JOIN words b ON b.p = a.p + 1
    WHERE octet_length(a.lexeme) + octet_length(b.lexeme) < 2000
$$;
