//! Pages as anyone not logged in sees them, kept for a moment and served again.
//!
//! A thread that draws a crowd is read far more often than it changes, and most of its readers
//! are not logged in: each of them sees the same page. So a handler that answers an anonymous
//! visitor marks its answer [`shared`], and this middleware keeps the answer's bytes, keyed by
//! the address and the headers the answer depends on (`Accept`, `Accept-Language`), and serves
//! them to the next anonymous visitor instead of asking the database again.
//!
//! A kept answer is served only while nothing it may show has changed:
//! - **in this process**, every write is noticed ([`crate::db::Db::changes`]): each
//!   transaction committed on the pool, counted once the `COMMIT` has finished, and each
//!   request that is not a `GET`, `HEAD` or `OPTIONS` once it has been answered (a form, an API
//!   call, an activity from another server), whatever it wrote, noted here with
//!   [`crate::db::Db::note_written`]; an answer rendered while either count moved is not
//!   served again;
//! - **in another process** sharing the PostgreSQL database, writes are not seen, so an answer
//!   is kept at most `server.page_cache_seconds` (2 by default): a reader there sees a new
//!   reply that much later at worst, as with any short-lived cache in front of a forum. The
//!   same bound covers what changes with the clock alone ("edited 3 minutes ago", a ban that
//!   runs out).
//!
//! Only `GET` requests with no session cookie, no notice cookie and no `Authorization` header
//! are looked up, and only `200` answers that set no cookie are kept; everything a logged-in
//! reader sees is theirs alone and is never kept. A kept answer served again carries an `Age`
//! header, as from any cache (RFC 9111, section 5.1). Every shared answer carries an `ETag`
//! and `Cache-Control: no-cache`, so a browser asks again each time with `If-None-Match` and is
//! answered `304 Not Modified`, with no body, while the page is unchanged. The kept bytes are bounded in total
//! (`server.page_cache_megabytes`); `server.page_cache_seconds = 0` turns all of this off.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{web, HttpResponse};

use crate::forum::Changes;
use crate::state::{AppState, NOTICE_COOKIE, SESSION_COOKIE};

/// The cookies that make a request someone's own: a login, or a notice for them alone.
const PERSONAL_COOKIES: [&str; 2] = [SESSION_COOKIE, NOTICE_COOKIE];

/// The largest answer kept; a larger one is served as it is made each time.
const LARGEST: usize = 1 << 20;

/// Set by a handler on an answer that any anonymous visitor would be given as it is.
#[derive(Debug, Clone, Copy)]
struct Shared;

/// Marks `res`, an answer to a visitor who is not logged in, as the same for every such visitor.
pub fn shared(mut res: HttpResponse) -> HttpResponse {
    res.extensions_mut().insert(Shared);
    res
}

/// One kept answer.
struct Kept {
    /// Where this process stood in its writes when it was made.
    standing: Changes,
    made: Instant,
    headers: Vec<(HeaderName, HeaderValue)>,
    etag: HeaderValue,
    body: Bytes,
}

/// The kept answers of one server.
pub struct PageCache {
    /// `None` when turned off.
    kept: Option<moka::sync::Cache<Vec<u8>, Arc<Kept>>>,
}

impl PageCache {
    /// Answers kept for `seconds` (none when 0), at most `megabytes` of them in all.
    pub fn new(seconds: u64, megabytes: u64) -> PageCache {
        let kept = (seconds > 0 && megabytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(megabytes.saturating_mul(1 << 20))
                .weigher(|key: &Vec<u8>, kept: &Arc<Kept>| {
                    u32::try_from(key.len() + kept.body.len()).unwrap_or(u32::MAX)
                })
                .time_to_live(Duration::from_secs(seconds))
                .build()
        });
        PageCache { kept }
    }
}

/// The key of an anonymous `GET`, or `None` when the request is someone's own (or not a `GET`).
fn key(req: &ServiceRequest) -> Option<Vec<u8>> {
    if req.method() != Method::GET
        || req.headers().contains_key(header::AUTHORIZATION)
        || PERSONAL_COOKIES.iter().any(|c| req.cookie(c).is_some())
    {
        return None;
    }
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut key = Vec::with_capacity(target.len() + 64);
    key.extend_from_slice(target.as_bytes());
    for name in [header::ACCEPT, header::ACCEPT_LANGUAGE] {
        // A header may be sent several times: every value counts, each after a separator no
        // value can hold.
        for value in req.headers().get_all(name) {
            key.push(b'\n');
            key.extend_from_slice(value.as_bytes());
        }
        key.push(0);
    }
    Some(key)
}

/// Middleware: serves kept answers to anonymous `GET`s, keeps new ones marked [`shared`], and
/// notes every request that may have written.
pub async fn serve(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let pages = &state.pages;
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let res = next.call(req).await;
        // Noted once answered, when whatever it wrote can be read.
        state.site.db().note_written();
        return Ok(res?.map_into_boxed_body());
    }
    let (Some(kept), Some(key)) = (&pages.kept, key(&req)) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let before = state.site.db().changes();
    if let Some(found) = kept.get(&key).filter(|k| k.standing == before) {
        if already_has(req.headers(), &found.etag) {
            return Ok(req.into_response(not_modified(&found.etag)));
        }
        let mut res = HttpResponse::Ok();
        for (name, value) in &found.headers {
            res.insert_header((name.clone(), value.clone()));
        }
        // As a cache in front of a server says how long ago what it serves was made (RFC 9111,
        // section 5.1): this is how a kept answer can be told from a new one.
        res.insert_header((header::AGE, found.made.elapsed().as_secs()));
        return Ok(req.into_response(res.body(found.body.clone())));
    }
    let res = next.call(req).await?;
    if res.status() != actix_web::http::StatusCode::OK
        || res.response().extensions().get::<Shared>().is_none()
        || res.headers().contains_key(header::SET_COOKIE)
    {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (mut res, body) = res.into_parts();
    let body = actix_web::body::to_bytes(body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into().to_string()))?;
    let etag = etag_of(&body);
    res.headers_mut().insert(header::ETAG, etag.clone());
    res.headers_mut().insert(header::CACHE_CONTROL, REVALIDATE);
    // Kept only when nothing was written while it was made: it may hold what was there before.
    if body.len() <= LARGEST && state.site.db().changes() == before {
        let headers = res
            .headers()
            .iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        kept.insert(
            key,
            Arc::new(Kept {
                standing: before,
                made: Instant::now(),
                headers,
                etag: etag.clone(),
                body: body.clone(),
            }),
        );
    }
    if already_has(req.headers(), &etag) {
        return Ok(ServiceResponse::new(req, not_modified(&etag)));
    }
    Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(body))))
}

/// What a shared answer tells a browser: keep it, but ask again before each use (RFC 9111,
/// section 5.2.2.4), as it changes whenever anything is written and a visitor who logs in must
/// not be shown it again.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// A weak entity tag for `body` (weak: the compression middleware outside may change the bytes
/// sent, not what they mean; RFC 9110, section 8.8.1): the first 128 bits of its SHA-256.
fn etag_of(body: &[u8]) -> HeaderValue {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body);
    let mut tag = String::with_capacity(38);
    tag.push_str("W/\"");
    for byte in &digest[..16] {
        tag.push_str(&format!("{byte:02x}"));
    }
    tag.push('"');
    HeaderValue::from_str(&tag).expect("hex digits and quotes are a valid header value")
}

/// Whether the request's `If-None-Match` names `etag` (or is `*`), compared weakly as a `GET`'s
/// is (RFC 9110, section 13.1.2).
fn already_has(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag
        .as_bytes()
        .strip_prefix(b"W/")
        .unwrap_or(etag.as_bytes());
    request.get_all(header::IF_NONE_MATCH).any(|value| {
        value.as_bytes().split(|b| *b == b',').any(|tag| {
            let tag = tag.trim_ascii();
            tag == b"*" || tag.strip_prefix(b"W/").unwrap_or(tag) == ours
        })
    })
}

/// `304 Not Modified` for `etag`: the browser shows what it has.
fn not_modified(etag: &HeaderValue) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, etag.clone()))
        .insert_header((header::CACHE_CONTROL, REVALIDATE))
        .finish()
}
