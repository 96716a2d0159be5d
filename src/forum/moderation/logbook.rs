//! Moderation logs, page by page: a forum's, and the instance's own (what concerns no one
//! forum: bans from the whole instance).

use super::*;

/// One page of the instance's own log, newest first.
#[derive(Debug, Clone)]
pub struct InstanceLogPage {
    /// The entries.
    pub items: Vec<LogItem>,
    /// Where this page stands.
    pub paging: Paging,
}

impl Site {
    /// One page of a forum's moderation log, newest first: as public as the forum, though who
    /// acted is shown only to moderators when `moderation.log_shows_moderators` is false. Four
    /// queries whatever the page holds (five in a members-only forum).
    pub async fn moderation_log(
        &self,
        viewer: Option<User>,
        forum_name: String,
        page: Option<u32>,
    ) -> Result<LogPage, ForumError> {
        let per_page = self.settings().pages.threads_per_page;
        let shows_moderators = self.settings().moderation.log_shows_moderators;
        self.blocking(move |_inner, conn| {
            let forum = local_forum(conn, &forum_name)?;
            require_can_read(conn, &forum, viewer.as_ref(), "forum")?;
            let names_moderators = shows_moderators
                || match &viewer {
                    Some(v) => moderates(conn, v, &forum)?,
                    None => false,
                };
            let (items, paging) = log_page(conn, Some(forum.id), names_moderators, page, per_page)?;
            Ok(LogPage {
                forum,
                items,
                paging,
            })
        })
        .await
    }

    /// One page of the instance's own moderation log (bans from the whole instance and their
    /// lifting), newest first: public like a forum's, who acted shown to administrators only
    /// when `moderation.log_shows_moderators` is false.
    pub async fn instance_moderation_log(
        &self,
        viewer: Option<User>,
        page: Option<u32>,
    ) -> Result<InstanceLogPage, ForumError> {
        let per_page = self.settings().pages.threads_per_page;
        let shows_moderators = self.settings().moderation.log_shows_moderators;
        self.blocking(move |_inner, conn| {
            let names_moderators =
                shows_moderators || viewer.as_ref().is_some_and(|v| v.local && v.is_admin);
            let (items, paging) = log_page(conn, None, names_moderators, page, per_page)?;
            Ok(InstanceLogPage { items, paging })
        })
        .await
    }
}

/// One page of a log (`None`: the instance's), with the people and threads it names, in three
/// more queries whatever the page holds.
fn log_page(
    conn: &mut Conn<'_>,
    forum_id: Option<i64>,
    names_moderators: bool,
    page: Option<u32>,
    per_page: u32,
) -> Result<(Vec<LogItem>, Paging), ForumError> {
    let paging = Paging::new(page, per_page, log::count_in_forum(conn, forum_id)?);
    let entries = log::page_in_forum(conn, forum_id, paging.limit(), paging.offset())?;
    let mut people: Vec<i64> = entries.iter().filter_map(|e| e.person_id).collect();
    if names_moderators {
        people.extend(entries.iter().filter_map(|e| e.moderator_id));
    }
    people.sort_unstable();
    people.dedup();
    let people = log::people(conn, &people)?;
    let thread_ids: Vec<i64> = entries.iter().filter_map(|e| e.thread_id).collect();
    let threads = log::threads(conn, &thread_ids)?;
    let person = |id: Option<i64>| id.and_then(|id| people.iter().find(|u| u.id == id).cloned());
    let items = entries
        .into_iter()
        .map(|entry| LogItem {
            action: Action::from_name(&entry.action),
            moderator: if names_moderators {
                person(entry.moderator_id)
            } else {
                None
            },
            person: person(entry.person_id),
            thread: entry
                .thread_id
                .and_then(|id| threads.iter().find(|t| t.id == id).cloned()),
            entry,
        })
        .collect();
    Ok((items, paging))
}
