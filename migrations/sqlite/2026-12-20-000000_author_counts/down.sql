DROP TRIGGER posts_shown_counted;
DROP TABLE author_counts;
