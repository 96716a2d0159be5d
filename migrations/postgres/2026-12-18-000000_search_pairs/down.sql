DROP INDEX post_search_pairs;
ALTER TABLE post_search DROP COLUMN pairs;
DROP FUNCTION staffroom_word_pairs(TSVECTOR);
