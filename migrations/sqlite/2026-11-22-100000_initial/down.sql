DROP TABLE post_revisions;
DROP TABLE posts;
DROP TABLE threads;
DROP TABLE forums;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE users;
