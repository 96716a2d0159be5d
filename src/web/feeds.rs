//! Atom feeds (RFC 4287) of a forum's new threads and of a thread's posts.

use actix_web::{web, HttpResponse};
use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use chrono::NaiveDateTime;

use super::session::Viewer;
use super::PageError;
use crate::forum::{Post, User};

fn date(t: NaiveDateTime) -> FixedDateTime {
    t.and_utc().fixed_offset()
}

fn link(href: String, rel: &str, mime: Option<&str>) -> Link {
    let mut l = Link::default();
    l.set_href(href);
    l.set_rel(rel);
    l.set_mime_type(mime.map(str::to_string));
    l
}

fn entry(viewer: &Viewer, title: String, post: &Post, author: &User) -> Entry {
    let urls = viewer.site.urls();
    let url = urls.post(post);
    let mut person = Person::default();
    person.set_name(author.display_name.clone());
    person.set_uri(Some(urls.user(author)));
    let mut e = Entry::default();
    e.set_title(Text::plain(title));
    e.set_id(url.clone());
    e.set_links(vec![link(url, "alternate", Some("text/html"))]);
    e.set_published(Some(date(post.created_at)));
    e.set_updated(date(post.edited_at.unwrap_or(post.created_at)));
    e.set_authors(vec![person]);
    let mut content = Content::default();
    content.set_content_type(Some("html".to_string()));
    content.set_value(Some(if post.deleted_at.is_some() {
        "<p>This post was deleted.</p>".to_string()
    } else if post.removed_at.is_some() {
        "<p>This post was removed by a moderator.</p>".to_string()
    } else {
        post.body_html.clone()
    }));
    e.set_content(Some(content));
    e
}

fn respond(feed: Feed) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/atom+xml; charset=utf-8")
        .body(feed.to_string())
}

fn base_feed(id: String, title: String, self_url: String, updated: NaiveDateTime) -> Feed {
    let mut feed = Feed::default();
    feed.set_title(Text::plain(title));
    feed.set_links(vec![
        link(id.clone(), "alternate", Some("text/html")),
        link(self_url, "self", Some("application/atom+xml")),
    ]);
    feed.set_id(id);
    feed.set_updated(date(updated));
    feed.set_generator(Some(atom_syndication::Generator {
        value: "Staffroom".into(),
        uri: None,
        version: Some(env!("CARGO_PKG_VERSION").into()),
    }));
    feed
}

/// GET /f/{name}/feed.atom: the forum's newest threads.
pub async fn forum(viewer: Viewer, path: web::Path<String>) -> Result<HttpResponse, PageError> {
    let (forum, entries) = viewer
        .site
        .forum_feed(path.into_inner())
        .await
        .map_err(|e| viewer.error(e))?;
    let urls = viewer.site.urls();
    let id = urls.forum(&forum);
    let mut feed = base_feed(
        id.clone(),
        forum.title.clone(),
        format!("{id}/feed.atom"),
        forum.last_activity_at.unwrap_or(forum.created_at),
    );
    if !forum.description.is_empty() {
        feed.set_subtitle(Some(Text::plain(forum.description.clone())));
    }
    feed.set_entries(
        entries
            .iter()
            .map(|(post, thread, author)| entry(&viewer, thread.title.clone(), post, author))
            .collect::<Vec<_>>(),
    );
    Ok(respond(feed))
}

/// GET /t/{id}/feed.atom: the thread's newest posts.
pub async fn thread(viewer: Viewer, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let (ctx, entries) = viewer
        .site
        .thread_feed(path.into_inner())
        .await
        .map_err(|e| viewer.error(e))?;
    let urls = viewer.site.urls();
    let id = urls.thread(&ctx.thread);
    let mut feed = base_feed(
        id.clone(),
        ctx.thread.title.clone(),
        format!("{id}/feed.atom"),
        ctx.thread.last_activity_at,
    );
    feed.set_entries(
        entries
            .iter()
            .map(|(post, author)| {
                let title = if post.is_opening {
                    ctx.thread.title.clone()
                } else {
                    format!("{} replied to “{}”", author.display_name, ctx.thread.title)
                };
                entry(&viewer, title, post, author)
            })
            .collect::<Vec<_>>(),
    );
    Ok(respond(feed))
}
