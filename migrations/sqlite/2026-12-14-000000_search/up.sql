-- Search: the words of every post (and of a thread's title, on its opening post), kept by the
-- same writes that change posts (see `db::search`). FTS5, its row id the post's id; words are
-- split and lowercased by unicode61 without folding accents, as PostgreSQL's 'simple' does.
CREATE VIRTUAL TABLE post_search USING fts5(
    title,
    body,
    tokenize = 'unicode61 remove_diacritics 0'
);
-- What is here already: Markdown as written, or (for posts from elsewhere) their HTML.
INSERT INTO post_search (rowid, title, body)
SELECT posts.id,
       CASE WHEN posts.is_opening THEN threads.title ELSE '' END,
       CASE WHEN posts.body_markdown <> '' THEN posts.body_markdown ELSE posts.body_html END
FROM posts JOIN threads ON threads.id = posts.thread_id;
