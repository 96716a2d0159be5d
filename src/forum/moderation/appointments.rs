//! Who moderates a forum: appointing and removing moderators here, and the moderators of
//! forums elsewhere, read from their collections and announcements.

use super::*;

impl Site {
    /// A forum with its moderators: `name` for one of ours, `name@domain` for one elsewhere
    /// (those of its moderators known here); 404 to a `viewer` who may not read it.
    pub async fn moderators(
        &self,
        forum_name: String,
        viewer: Option<User>,
    ) -> Result<Moderators, ForumError> {
        self.blocking(move |_inner, conn| {
            let forum = forums::by_handle(conn, &forum_name)?
                .ok_or(ForumError::NotFound { what: "forum" })?;
            require_can_read(conn, &forum, viewer.as_ref(), "forum")?;
            let moderators = log::of_forum(conn, forum.id)?;
            Ok(Moderators { forum, moderators })
        })
        .await
    }

    /// Makes a person a moderator of a forum of this instance (administrators only), recorded
    /// in the forum's log. `person` is a handle: `name` here, or `name@domain` elsewhere
    /// (found through `resolver` when it is not known yet).
    pub async fn appoint_moderator(
        &self,
        by: User,
        forum_name: String,
        person: &str,
        resolver: Option<&dyn Resolver>,
    ) -> Result<Moderators, ForumError> {
        require_admin(&by)?;
        let person = self.person_named(person, resolver).await?;
        self.change_moderators(by, forum_name, person, Action::Appoint)
            .await
    }

    /// Takes a person (by handle) off a forum's moderators (administrators only), recorded in
    /// the forum's log.
    pub async fn dismiss_moderator(
        &self,
        by: User,
        forum_name: String,
        person: &str,
    ) -> Result<Moderators, ForumError> {
        require_admin(&by)?;
        let person = self.person_named(person, None).await?;
        self.change_moderators(by, forum_name, person, Action::Dismiss)
            .await
    }

    /// The person a handle names, found elsewhere through `resolver` when not known here; a
    /// 422 `unknown_person` on the `person` field when there is none.
    pub(super) async fn person_named(
        &self,
        handle: &str,
        resolver: Option<&dyn Resolver>,
    ) -> Result<User, ForumError> {
        let unknown = || {
            ForumError::invalid(
                "unknown_person",
                "person",
                "There is no one by that name: give a username here, or name@domain for someone on another server.",
            )
        };
        if let Some(person) = self.person_by_handle(handle.to_string()).await? {
            return Ok(person);
        }
        let elsewhere = handle.trim().trim_start_matches('@').contains('@');
        match resolver {
            Some(resolver) if elsewhere => match resolver.resolve(handle).await {
                Ok(Resolved::User(person)) => Ok(person),
                Ok(_) | Err(ForumError::NotFound { .. } | ForumError::Invalid(_)) => Err(unknown()),
                Err(e) => Err(e),
            },
            _ => Err(unknown()),
        }
    }

    async fn change_moderators(
        &self,
        by: User,
        forum_name: String,
        person: User,
        action: Action,
    ) -> Result<Moderators, ForumError> {
        self.blocking_then_send(move |inner, conn| {
            let forum = local_forum(conn, &forum_name)?;
            conn.transaction(|conn| {
                let added = action == Action::Appoint;
                let changed = if added {
                    log::add(conn, forum.id, person.id, Some(by.id), db::now())?
                } else {
                    log::remove(conn, forum.id, person.id)?
                };
                let told = changed && inner.settings.federation.enabled;
                if changed {
                    record(
                        conn,
                        &forum,
                        &by,
                        action,
                        Target::person(person.id),
                        &Reason::default(),
                    )?;
                }
                if told {
                    push_event(
                        conn,
                        &OutboxEvent::Moderator {
                            forum_id: forum.id,
                            person_id: person.id,
                            by_id: by.id,
                            added,
                        },
                    )?;
                }
                let moderators = log::of_forum(conn, forum.id)?;
                Ok((Moderators { forum, moderators }, told))
            })
        })
        .await
    }

    /// Who moderates a forum elsewhere, as its `moderators` collection lists them (actor ids):
    /// those known here (people of this instance among them) are recorded, and nobody else.
    pub async fn set_remote_moderators(
        &self,
        forum_id: i64,
        ids: Vec<String>,
    ) -> Result<(), ForumError> {
        let own = format!("{}/u/", self.urls().base());
        self.blocking(move |_inner, conn| {
            let forum =
                forums::by_id(conn, forum_id)?.ok_or(ForumError::NotFound { what: "forum" })?;
            if forum.local {
                return Ok(());
            }
            let mut people = Vec::new();
            for id in &ids {
                let person = match id.strip_prefix(&own) {
                    Some(name) if !name.contains('/') => users::local_by_name(conn, name)?,
                    _ => users::by_ap_id(conn, id)?,
                };
                people.extend(person);
            }
            conn.transaction(|conn| {
                for gone in log::of_forum(conn, forum.id)? {
                    if !people.iter().any(|p| p.id == gone.id) {
                        log::remove(conn, forum.id, gone.id)?;
                    }
                }
                for person in &people {
                    log::add(conn, forum.id, person.id, None, db::now())?;
                }
                Ok(())
            })
        })
        .await
    }

    /// A forum elsewhere says it appointed (or removed) a moderator (`Add` or `Remove` to its
    /// `moderators` collection, which it announced). Our own forums' moderators are appointed
    /// by our administrators only: such a change from elsewhere is refused.
    pub async fn receive_moderator_change(
        &self,
        forum_id: i64,
        person: User,
        added: bool,
    ) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            let forum =
                forums::by_id(conn, forum_id)?.ok_or(ForumError::NotFound { what: "forum" })?;
            if forum.local {
                return Err(ForumError::forbidden(
                    "admin_only",
                    "The administrators of this instance appoint its forums' moderators",
                ));
            }
            if added {
                log::add(conn, forum.id, person.id, None, db::now())?;
            } else {
                log::remove(conn, forum.id, person.id)?;
            }
            Ok(())
        })
        .await
    }

    /// The person a handle names, if known here: `name` for someone of this instance,
    /// `name@domain` for someone elsewhere already seen (or of this instance, when the domain
    /// is ours).
    pub async fn person_by_handle(&self, handle: String) -> Result<Option<User>, ForumError> {
        let own = self.settings().server.public_url.clone();
        self.blocking(move |_inner, conn| {
            let handle = handle.trim().trim_start_matches('@');
            let (name, domain) = match handle.split_once('@') {
                Some((name, domain)) => (name, Some(domain.to_ascii_lowercase())),
                None => (handle, None),
            };
            let ours = domain.is_none() || domain == crate::forum::remote::domain_of(&own);
            Ok(match domain {
                Some(domain) if !ours => users::remote_by_handle(conn, name, &domain)?,
                _ => users::local_by_name(conn, &name.to_ascii_lowercase())?,
            })
        })
        .await
    }
}
