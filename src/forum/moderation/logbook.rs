//! A forum's moderation log, page by page.

use super::*;

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
            let paging = Paging::new(page, per_page, log::count_in_forum(conn, forum.id)?);
            let entries = log::page_in_forum(conn, forum.id, paging.limit(), paging.offset())?;
            let names_moderators = shows_moderators
                || match &viewer {
                    Some(v) => moderates(conn, v, &forum)?,
                    None => false,
                };
            let mut people: Vec<i64> = entries.iter().filter_map(|e| e.person_id).collect();
            if names_moderators {
                people.extend(entries.iter().filter_map(|e| e.moderator_id));
            }
            people.sort_unstable();
            people.dedup();
            let people = log::people(conn, &people)?;
            let thread_ids: Vec<i64> = entries.iter().filter_map(|e| e.thread_id).collect();
            let threads = log::threads(conn, &thread_ids)?;
            let person =
                |id: Option<i64>| id.and_then(|id| people.iter().find(|u| u.id == id).cloned());
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
            Ok(LogPage {
                forum,
                items,
                paging,
            })
        })
        .await
    }
}
