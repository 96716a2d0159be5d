DROP TRIGGER posts_shown_counted ON posts;
DROP FUNCTION staffroom_post_shown_counted();
DROP TABLE author_counts;
