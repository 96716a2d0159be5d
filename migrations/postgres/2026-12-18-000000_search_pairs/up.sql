-- Phrase search: every pair of adjacent words of a post ("word1 word2", one lexeme each),
-- read from its document's positions, with a GIN index. A phrase's posts are those holding
-- every pair of its words, so the index finds them at once, however common the words are; the
-- document still decides (`db::search`). Without it PostgreSQL can only find the posts with
-- all the phrase's words and read each one's positions (up to half a second over 100,000
-- posts for a phrase of two common words).
--
-- The pairs of a query's phrases are made by this same function from `to_tsvector` of the
-- phrase, so both sides split words alike. Pairs too long to be one lexeme are left out
-- (on both sides alike).
-- Posts are now indexed as the words a query is read into (runs of letters and digits, see
-- `db::search::words`): PostgreSQL's parser kept `1.5`, `e-mail`, `example.org/path` or an
-- address whole, which a query reads as two or three words (as SQLite's tokenizer does), so
-- they could not be found. What is here already is indexed again so.
UPDATE post_search SET document =
    setweight(to_tsvector('simple', regexp_replace(title, '[^[:alnum:]]+', ' ', 'g')), 'A')
    || setweight(to_tsvector('simple', regexp_replace(body, '[^[:alnum:]]+', ' ', 'g')), 'B');

CREATE FUNCTION staffroom_word_pairs(doc TSVECTOR) RETURNS TSVECTOR
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

ALTER TABLE post_search
    ADD COLUMN pairs TSVECTOR GENERATED ALWAYS AS (staffroom_word_pairs(document)) STORED;
CREATE INDEX post_search_pairs ON post_search USING GIN (pairs);
