DROP TABLE helpful_marks;
ALTER TABLE posts DROP COLUMN helpful_count;
