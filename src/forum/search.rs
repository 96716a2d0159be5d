//! Search over thread titles and post bodies, here and from other servers: words (all must
//! be there), `"quoted phrases"` and `-excluded` words, filtered by forum, author and date,
//! best first, in pages. The same query means the same on both databases: it is read here into
//! words and phrases and written out in each engine's syntax (see `db::search`). Members-only
//! forums are searched only by those who may read them; deleted and removed posts never.

use chrono::{NaiveDate, NaiveTime};

use super::threads::PostContext;
use super::visibility::{can_read, hidden_forums};
use super::{Paging, Site, User};
use crate::db::search::{self as index, words, SearchQuery};
use crate::db::{forums, posts, users};
use crate::error::{ForumError, Validator};

/// The longest query taken, in characters.
pub const QUERY_MAX_CHARS: usize = 500;
/// The most words and phrases a query may hold.
const TERMS_MAX: usize = 16;

/// A search as asked: the query and the filters, as typed (the page's form and the API's
/// query string alike).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SearchRequest {
    /// Words, `"phrases"` and `-excluded` words.
    pub q: String,
    /// A forum's handle, or empty.
    pub forum: String,
    /// A person's handle, or empty.
    pub author: String,
    /// `YYYY-MM-DD`, or empty: written on or after that day.
    pub from: String,
    /// `YYYY-MM-DD`, or empty: written on or before that day.
    pub to: String,
    /// 1-based page.
    pub page: Option<u32>,
}

/// One post found.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// The post, its author, thread and forum.
    pub context: PostContext,
    /// Its words around what matched, the matches between `db::search::MARK_START` and
    /// `MARK_END` (not escaped: the page escapes it).
    pub snippet: String,
}

impl SearchHit {
    /// The snippet as HTML: its text escaped, its matches in `<mark>`.
    pub fn snippet_html(&self) -> String {
        let mut out = String::with_capacity(self.snippet.len() + 16);
        for c in self.snippet.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                index::MARK_START => out.push_str("<mark>"),
                index::MARK_END => out.push_str("</mark>"),
                c => out.push(c),
            }
        }
        out
    }
}

/// A page of results.
#[derive(Debug, Clone)]
pub struct SearchResults {
    /// The posts, best first.
    pub hits: Vec<SearchHit>,
    /// Where this page stands (`total`: how many posts match, up to
    /// [`index::CANDIDATES`]; the pages go that far).
    pub paging: Paging,
    /// More posts match than `paging.total`: the newest that many are ranked.
    pub more: bool,
}

/// The words and phrases of a query: each a run of lowercase words (one word, or a phrase).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Terms {
    wanted: Vec<Vec<String>>,
    excluded: Vec<Vec<String>>,
}

/// Reads a query: `"..."` is a phrase, `-word` or `-"..."` excluded, anything else words.
fn terms(q: &str) -> Terms {
    let mut terms = Terms::default();
    let mut rest = q;
    while !rest.is_empty() {
        rest = rest.trim_start();
        let (excluded, after_sign) = match rest.strip_prefix('-') {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let (chunk, next) = if let Some(quoted) = after_sign.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            let end = after_sign
                .find(char::is_whitespace)
                .unwrap_or(after_sign.len());
            (&after_sign[..end], &after_sign[end..])
        };
        let found = words(chunk);
        if !found.is_empty() {
            if excluded {
                terms.excluded.push(found);
            } else {
                terms.wanted.push(found);
            }
        }
        rest = next;
    }
    terms
}

impl Terms {
    /// FTS5: each term quoted (a phrase when it has several words), all required, exclusions
    /// with `NOT` (which binds tighter than the implicit AND).
    fn fts5(&self) -> String {
        let quoted = |t: &Vec<String>| format!("\"{}\"", t.join(" "));
        let mut q: Vec<String> = self.wanted.iter().map(quoted).collect();
        for t in &self.excluded {
            q.push(format!("NOT {}", quoted(t)));
        }
        q.join(" ")
    }

    /// `websearch_to_tsquery`: each term quoted (so that `or` is a word, as in FTS5), and
    /// `-exclusions`.
    fn websearch(&self) -> String {
        let written = |t: &Vec<String>| format!("\"{}\"", t.join(" "));
        let mut q: Vec<String> = self.wanted.iter().map(written).collect();
        for t in &self.excluded {
            q.push(format!("-{}", written(t)));
        }
        q.join(" ")
    }
}

/// A `YYYY-MM-DD` filter, as the start of that day (`after`: of the day after).
fn day(input: &str, after: bool) -> Result<Option<chrono::NaiveDateTime>, String> {
    match input.trim() {
        "" => Ok(None),
        text => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(|d| {
                let d = if after { d.succ_opt().unwrap_or(d) } else { d };
                Some(d.and_time(NaiveTime::MIN))
            })
            .map_err(|_| "Give a date such as 2027-01-31.".to_string()),
    }
}

impl Site {
    /// Searches what `viewer` may read. A query with no word to look for, or too long, is a
    /// mistake on the field `q`; an unknown forum or person on theirs.
    pub async fn search(
        &self,
        viewer: Option<User>,
        request: SearchRequest,
    ) -> Result<SearchResults, ForumError> {
        let per_page = self.settings().pages.threads_per_page;
        self.blocking(move |_inner, conn| {
            let mut v = Validator::new();
            let terms = terms(&request.q);
            let q_ok = if request.q.chars().count() > QUERY_MAX_CHARS {
                Err(format!(
                    "A search is at most {QUERY_MAX_CHARS} characters long."
                ))
            } else if terms.wanted.is_empty() {
                Err("Give at least one word to look for.".to_string())
            } else if terms.wanted.len() + terms.excluded.len() > TERMS_MAX {
                Err(format!(
                    "A search holds at most {TERMS_MAX} words and phrases."
                ))
            } else {
                Ok(())
            };
            v.check("q", q_ok);
            let since = v.check("from", day(&request.from, false)).flatten();
            let before = v.check("to", day(&request.to, true)).flatten();
            let forum = match request.forum.trim() {
                "" => None,
                handle => match forums::by_handle(conn, handle)? {
                    Some(f) if can_read(conn, &f, viewer.as_ref())? => Some(f),
                    _ => v.check("forum", Err("There is no forum by that name.".into())),
                },
            };
            let author = match request.author.trim().trim_start_matches('@') {
                "" => None,
                handle => {
                    let found = match handle.split_once('@') {
                        Some((name, domain)) => users::remote_by_handle(conn, name, domain)?,
                        None => users::local_by_name(conn, &handle.to_ascii_lowercase())?,
                    };
                    match found {
                        Some(u) => Some(u),
                        None => v.check("author", Err("There is no one by that name.".into())),
                    }
                }
            };
            if !v.is_empty() {
                return Err(v.into_error());
            }
            let query = SearchQuery {
                fts5: terms.fts5(),
                websearch: terms.websearch(),
                forum_id: forum.map(|f| f.id),
                author_id: author.map(|u| u.id),
                since,
                before,
                hidden: hidden_forums(conn, viewer.as_ref())?,
                phrases: terms
                    .wanted
                    .iter()
                    .filter(|group| group.len() > 1)
                    .map(|group| group.join(" "))
                    .collect(),
            };
            let per = i64::from(per_page.max(1));
            let page = request.page.unwrap_or(1).max(1);
            let offset = i64::from(page - 1) * per;
            let (total, hits) = index::search(conn, &query, per, offset)?;
            let more = total > index::CANDIDATES;
            let paging = Paging::new(Some(page), per_page, total.min(index::CANDIDATES));
            let ids: Vec<i64> = hits.iter().map(|h| h.post_id).collect();
            let found = posts::many_with_context(conn, &ids)?;
            let hits = hits
                .into_iter()
                .filter_map(|hit| {
                    let (post, author, thread, forum) =
                        found.iter().find(|(p, ..)| p.id == hit.post_id).cloned()?;
                    Some(SearchHit {
                        context: PostContext {
                            post,
                            author,
                            thread,
                            forum,
                        },
                        snippet: hit.snippet,
                    })
                })
                .collect();
            Ok(SearchResults { hits, paging, more })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::{terms, Terms};

    #[test]
    fn queries_read_as_words_phrases_and_exclusions() {
        let t = terms(r#"Fractions "number bonds" -decimals -"long division" café"#);
        assert_eq!(
            t,
            Terms {
                wanted: vec![
                    vec!["fractions".into()],
                    vec!["number".into(), "bonds".into()],
                    vec!["café".into()],
                ],
                excluded: vec![
                    vec!["decimals".into()],
                    vec!["long".into(), "division".into()]
                ],
            }
        );
        assert_eq!(
            t.fts5(),
            r#""fractions" "number bonds" "café" NOT "decimals" NOT "long division""#
        );
        assert_eq!(
            t.websearch(),
            r#""fractions" "number bonds" "café" -"decimals" -"long division""#
        );
    }

    #[test]
    fn operators_and_quotes_are_only_words() {
        // Nothing typed reaches an engine as syntax: quotes, stars, colons and ORs are words
        // or nothing.
        let t = terms(r#"a:b OR "unclosed * NEAR( x"#);
        assert_eq!(t.fts5(), r#""a b" "or" "unclosed near x""#);
        assert!(terms(r#"" - -- "" ***"#).wanted.is_empty());
    }
}
