//! `post_search`: the words of every post, for search. On SQLite an FTS5 table (its row id the
//! post's id), on PostgreSQL a `tsvector` with a GIN index; both kept by the same writes that
//! change a post's words ([`index`], called from `posts` and `threads`). Searching joins the
//! posts, so deleted and removed posts are never found whatever the index holds.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::Conn;

/// The plain text of sanitized HTML: tags dropped (each one a word break), the entities our
/// sanitizer writes decoded.
pub fn text_of(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                text.push(' ');
            }
            (true, '>') => in_tag = false,
            (false, c) => text.push(c),
            (true, _) => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// The words of `text`: runs of letters and digits, lowercased. A query is read into these,
/// and on PostgreSQL a post is indexed as these (its parser would keep `1.5`, `e-mail`,
/// `example.org/path` or an address whole, and a query reads them as two or three words, as
/// SQLite's tokenizer does).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Indexes a post's words, replacing what was indexed: the thread's `title` (opening posts;
/// empty otherwise) and the text of its HTML.
pub fn index(conn: &mut Conn<'_>, post_id: i64, title: &str, html: &str) -> QueryResult<()> {
    let body = text_of(html);
    match conn {
        Conn::Sqlite(c, _) => {
            super::prepared_sql("DELETE FROM post_search WHERE rowid = $1")
                .bind::<BigInt, _>(post_id)
                .execute(*c)?;
            super::prepared_sql("INSERT INTO post_search (rowid, title, body) VALUES ($1, $2, $3)")
                .bind::<BigInt, _>(post_id)
                .bind::<Text, _>(title)
                .bind::<Text, _>(&body)
                .execute(*c)?;
        }
        Conn::Pg(c) => {
            super::prepared_sql(
                "INSERT INTO post_search (post_id, title, body, document) VALUES ($1, $2, $3, \
                 setweight(to_tsvector('simple', $4), 'A') || setweight(to_tsvector('simple', $5), 'B')) \
                 ON CONFLICT (post_id) DO UPDATE SET title = excluded.title, body = excluded.body, \
                 document = excluded.document",
            )
            .bind::<BigInt, _>(post_id)
            .bind::<Text, _>(title)
            .bind::<Text, _>(&body)
            .bind::<Text, _>(words(title).join(" "))
            .bind::<Text, _>(words(&body).join(" "))
            .execute(*c)?;
        }
    }
    Ok(())
}

/// Indexes several new posts' words, `(post_id, title, html)` as for [`index`] (a batch's,
/// each post once): on PostgreSQL one statement for them all.
pub fn index_each(conn: &mut Conn<'_>, posts: &[(i64, &str, &str)]) -> QueryResult<()> {
    match conn {
        Conn::Pg(c) if posts.len() > 1 => {
            use diesel::sql_types::Array;
            let bodies: Vec<String> = posts.iter().map(|p| text_of(p.2)).collect();
            let title_words: Vec<String> = posts.iter().map(|p| words(p.1).join(" ")).collect();
            let body_words: Vec<String> = bodies.iter().map(|b| words(b).join(" ")).collect();
            super::prepared_sql(
                "INSERT INTO post_search (post_id, title, body, document) \
                 SELECT post_id, title, body, setweight(to_tsvector('simple', title_words), 'A') \
                 || setweight(to_tsvector('simple', body_words), 'B') \
                 FROM unnest($1, $2, $3, $4, $5) AS p(post_id, title, body, title_words, body_words) \
                 ON CONFLICT (post_id) DO UPDATE SET title = excluded.title, body = excluded.body, \
                 document = excluded.document",
            )
            .bind::<Array<BigInt>, _>(posts.iter().map(|p| p.0).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(posts.iter().map(|p| p.1).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(&bodies)
            .bind::<Array<Text>, _>(&title_words)
            .bind::<Array<Text>, _>(&body_words)
            .execute(*c)?;
        }
        _ => {
            for &(post_id, title, html) in posts {
                index(conn, post_id, title, html)?;
            }
        }
    }
    Ok(())
}

/// Indexes a post again from its row (and its thread's title, when it opens it).
pub fn reindex(conn: &mut Conn<'_>, post_id: i64) -> QueryResult<()> {
    use super::schema::{posts, threads};
    let row: Option<(String, bool, String)> = super::dispatch!(conn, |c| posts::table
        .inner_join(threads::table)
        .filter(posts::id.eq(post_id))
        .select((posts::body_html, posts::is_opening, threads::title))
        .first(c)
        .optional())?;
    match row {
        Some((html, opening, title)) => {
            index(conn, post_id, if opening { &title } else { "" }, &html)
        }
        None => Ok(()),
    }
}

/// Forgets the words of everything a person wrote (their words were erased).
pub fn forget_author(conn: &mut Conn<'_>, author_id: i64) -> QueryResult<usize> {
    let sql = match conn {
        Conn::Sqlite(..) => {
            "DELETE FROM post_search WHERE rowid IN (SELECT id FROM posts WHERE author_id = $1)"
        }
        Conn::Pg(_) => {
            "DELETE FROM post_search WHERE post_id IN (SELECT id FROM posts WHERE author_id = $1)"
        }
    };
    super::dispatch!(conn, |c| diesel::sql_query(sql)
        .bind::<BigInt, _>(author_id)
        .execute(c))
}

/// What to look for, already checked: the query for each engine (the same words, phrases and
/// exclusions, written in its syntax) and the filters.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// FTS5 `MATCH` expression.
    pub fts5: String,
    /// Input for PostgreSQL's `websearch_to_tsquery`.
    pub websearch: String,
    /// Only in this forum.
    pub forum_id: Option<i64>,
    /// Only by this person.
    pub author_id: Option<i64>,
    /// Written at or after.
    pub since: Option<NaiveDateTime>,
    /// Written before.
    pub before: Option<NaiveDateTime>,
    /// Never in these forums (members-only ones the reader may not see).
    pub hidden: Vec<i64>,
    /// The phrases it asks for (words next to each other), each its words joined by spaces;
    /// not those it excludes.
    pub phrases: Vec<String>,
}

/// Where a snippet's match starts and ends (private-use characters, which escaping leaves
/// alone and no text of ours contains).
pub const MARK_START: char = '\u{E000}';
/// See [`MARK_START`].
pub const MARK_END: char = '\u{E001}';

/// One post found, with a snippet of its text around the match.
#[derive(Debug, Clone, QueryableByName)]
pub struct Hit {
    /// The post.
    #[diesel(sql_type = BigInt)]
    pub post_id: i64,
    /// Its words around what matched, the matches between [`MARK_START`] and [`MARK_END`].
    #[diesel(sql_type = Text)]
    pub snippet: String,
}

/// The filters as SQL after the `MATCH` (`$1`), numbered from `$2`, and the number of the
/// next parameter; the hidden forums are ids from the database, written in.
fn filters(q: &SearchQuery) -> (String, usize) {
    let mut sql = String::from(" AND posts.deleted_at IS NULL AND posts.removed_at IS NULL");
    let mut n = 1;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    if q.forum_id.is_some() {
        sql.push_str(&format!(" AND threads.forum_id = {}", next()));
    }
    if q.author_id.is_some() {
        sql.push_str(&format!(" AND posts.author_id = {}", next()));
    }
    if q.since.is_some() {
        sql.push_str(&format!(" AND posts.created_at >= {}", next()));
    }
    if q.before.is_some() {
        sql.push_str(&format!(" AND posts.created_at < {}", next()));
    }
    if !q.hidden.is_empty() {
        let ids: Vec<String> = q.hidden.iter().map(i64::to_string).collect();
        sql.push_str(&format!(
            " AND threads.forum_id NOT IN ({})",
            ids.join(", ")
        ));
    }
    (sql, n + 1)
}

/// Binds the query and the filters that are set, in the order [`filters`] numbers them.
macro_rules! bind_all {
    ($query:expr, $q:expr, $text:expr) => {{
        let mut query = $query.bind::<Text, _>($text);
        if let Some(id) = $q.forum_id {
            query = query.bind::<BigInt, _>(id);
        }
        if let Some(id) = $q.author_id {
            query = query.bind::<BigInt, _>(id);
        }
        if let Some(at) = $q.since {
            query = query.bind::<Timestamp, _>(at);
        }
        if let Some(at) = $q.before {
            query = query.bind::<Timestamp, _>(at);
        }
        query
    }};
}

/// The most matches a search ranks: when a query's words are in more posts than this, the
/// newest this many are ranked and paged, and the count says "more than" this many. Ranking
/// every one of 30,000 matches (a common word over 100,000 posts) took 150 ms on SQLite and
/// 380 ms on PostgreSQL at the 95th percentile on the 2-core machine this was measured on;
/// a reader narrows such a search (a forum, an author, dates, another word) rather than page
/// through it.
pub const CANDIDATES: i64 = 1_000;

/// The pairs of adjacent words of `phrases`, as PostgreSQL splits them (the same function
/// that makes a post's pairs, see the migration `search_pairs`), written as a `tsquery` that
/// asks for all of them: empty when no phrase has two words.
fn phrase_pairs(c: &mut diesel::PgConnection, phrases: &[String]) -> QueryResult<String> {
    #[derive(QueryableByName)]
    struct Pair {
        #[diesel(sql_type = Text)]
        pair: String,
    }
    let pairs: Vec<Pair> = diesel::sql_query(
        "SELECT DISTINCT unnest(tsvector_to_array(staffroom_word_pairs(to_tsvector('simple', p)))) \
         AS pair FROM unnest($1) AS p",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(phrases)
    .load(c)?;
    Ok(pairs
        .iter()
        .map(|p| format!("'{}'", p.pair.replace('\\', "\\\\").replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(" & "))
}

/// One page of the posts that match, best first, and how many match (counted up to
/// [`CANDIDATES`] + 1: more than [`CANDIDATES`] means "more than that many"): two queries.
/// The first reads the newest matches in the full-text index's own order (no sort of every
/// match) with their rank, which says how many there are and which are best; the second
/// makes snippets for the page's posts only.
pub fn search(
    conn: &mut Conn<'_>,
    q: &SearchQuery,
    limit: i64,
    offset: i64,
) -> QueryResult<(i64, Vec<Hit>)> {
    let (filters, next_parameter) = filters(q);
    let over = CANDIDATES + 1;
    #[derive(QueryableByName)]
    struct Candidate {
        #[diesel(sql_type = BigInt)]
        post_id: i64,
        /// Better is lower.
        #[diesel(sql_type = diesel::sql_types::Double)]
        score: f64,
    }
    let candidates: Vec<Candidate> = match conn {
        Conn::Sqlite(c, _) => bind_all!(
            diesel::sql_query(format!(
                "SELECT posts.id AS post_id, bm25(post_search, 4.0, 1.0) AS score \
                 FROM post_search JOIN posts ON posts.id = post_search.rowid \
                 JOIN threads ON threads.id = posts.thread_id WHERE post_search MATCH $1\
                 {filters} ORDER BY post_search.rowid DESC LIMIT {over}"
            ))
            .into_boxed(),
            q,
            &q.fts5
        )
        .load(*c)?,
        // Planned for its words, not once for any (see `db::pool`): whether the planner walks
        // the newest posts back or reads the words' index first depends on how common they are.
        Conn::Pg(c) => c.transaction(|c| {
            c.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan")?;
            // A phrase: also the posts holding each pair of its adjacent words, from their
            // index (the planner knows how common a pair is, where it would take a phrase to
            // be as common as its words and check the positions of every post with them); the
            // document decides.
            let pairs = if q.phrases.is_empty() {
                None
            } else {
                Some(phrase_pairs(c, &q.phrases)?).filter(|p| !p.is_empty())
            };
            let pairs_filter = match pairs {
                Some(_) => format!(" AND post_search.pairs @@ CAST(${next_parameter} AS tsquery)"),
                None => String::new(),
            };
            // Newest first by the index's own key, so that for a common word the planner may
            // walk the posts backwards and stop at the limit instead of sorting every match;
            // ranked in the outer query, for the candidates only.
            let query = bind_all!(
                diesel::sql_query(format!(
                    "SELECT found.post_id, \
                     -CAST(ts_rank(found.document, websearch_to_tsquery('simple', $1)) \
                     AS DOUBLE PRECISION) AS score \
                     FROM (SELECT post_search.post_id, post_search.document \
                     FROM post_search JOIN posts ON posts.id = post_search.post_id \
                     JOIN threads ON threads.id = posts.thread_id \
                     WHERE post_search.document @@ websearch_to_tsquery('simple', $1)\
                     {pairs_filter}{filters} ORDER BY post_search.post_id DESC LIMIT {over}) AS found"
                ))
                .into_boxed(),
                q,
                &q.websearch
            );
            match pairs {
                Some(pairs) => query.bind::<Text, _>(pairs).load::<Candidate>(c),
                None => query.load::<Candidate>(c),
            }
        })?,
    };
    let total = candidates.len() as i64;
    let mut ranked: Vec<Candidate> = candidates
        .into_iter()
        .take(usize::try_from(CANDIDATES).unwrap_or(usize::MAX))
        .collect();
    // Best first; the newer of two equally good.
    ranked.sort_by(|a, b| {
        a.score
            .total_cmp(&b.score)
            .then_with(|| b.post_id.cmp(&a.post_id))
    });
    let page: Vec<i64> = ranked
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|c| c.post_id)
        .collect();
    if page.is_empty() {
        return Ok((total, Vec::new()));
    }
    let ids: Vec<String> = page.iter().map(i64::to_string).collect();
    let ids = ids.join(", ");
    let snippets: Vec<Hit> = match conn {
        Conn::Sqlite(c, _) => diesel::sql_query(format!(
            "SELECT rowid AS post_id, \
             snippet(post_search, 1, char(57344), char(57345), '…', 24) AS snippet \
             FROM post_search WHERE post_search MATCH $1 AND rowid IN ({ids})"
        ))
        .bind::<Text, _>(&q.fts5)
        .load(*c)?,
        Conn::Pg(c) => diesel::sql_query(format!(
            "SELECT post_id, ts_headline('simple', body, websearch_to_tsquery('simple', $1), \
             'StartSel=' || chr(57344) || ', StopSel=' || chr(57345) || \
             ', MaxFragments=1, MaxWords=30, MinWords=12') AS snippet \
             FROM post_search WHERE post_id IN ({ids})"
        ))
        .bind::<Text, _>(&q.websearch)
        .load(*c)?,
    };
    let hits = page
        .iter()
        .filter_map(|id| snippets.iter().find(|h| h.post_id == *id).cloned())
        .collect();
    Ok((total, hits))
}
