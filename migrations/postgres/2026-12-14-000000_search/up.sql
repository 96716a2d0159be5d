-- Search: the words of every post (and of a thread's title, on its opening post), kept by the
-- same writes that change posts (see `db::search`), as a tsvector ('simple': lowercased, no
-- stemming, as SQLite's unicode61) with a GIN index. Titles weigh more than bodies.
CREATE TABLE post_search (
    post_id BIGINT PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    document TSVECTOR NOT NULL
);
CREATE INDEX post_search_document ON post_search USING GIN (document);
-- What is here already: Markdown as written, or (for posts from elsewhere) their HTML, whose
-- tags the parser leaves out.
INSERT INTO post_search (post_id, title, body, document)
SELECT posts.id, t.title, b.body,
       setweight(to_tsvector('simple', t.title), 'A') || setweight(to_tsvector('simple', b.body), 'B')
FROM posts
JOIN threads ON threads.id = posts.thread_id
CROSS JOIN LATERAL (SELECT CASE WHEN posts.is_opening THEN threads.title ELSE '' END AS title) t
CROSS JOIN LATERAL (SELECT CASE WHEN posts.body_markdown <> '' THEN posts.body_markdown ELSE posts.body_html END AS body) b;
