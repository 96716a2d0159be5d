//! Bans: keeping a person from posting in one forum (its moderators decide) or anywhere here
//! (administrators decide), with a reason, until a given time or until lifted; here, and as
//! other servers send them.

use chrono::NaiveDateTime;

use super::*;
use crate::db::bans::{self as ban_rows, Ban, NewBan};

/// A ban, with whom and where it concerns.
#[derive(Debug, Clone)]
pub struct BanView {
    /// The ban.
    pub ban: Ban,
    /// Who is banned.
    pub person: User,
    /// The forum they are banned from; `None`: the whole instance.
    pub forum: Option<Forum>,
}

/// A ban asked for, as a moderator fills it in.
#[derive(Debug, Clone, Default)]
pub struct BanRequest {
    /// Who: `name` here, `name@domain` elsewhere.
    pub person: String,
    /// Why (required).
    pub reason: String,
    /// When it ends by itself; `None`: when lifted.
    pub expires_at: Option<NaiveDateTime>,
    /// Also remove (reversibly) everything they posted there.
    pub remove_content: bool,
}

/// A ban or its lifting, as another server sends it.
#[derive(Debug, Clone)]
pub struct ReceivedBan {
    /// The forum (its id here); `None`: the person's own server banned them from it.
    pub forum_id: Option<i64>,
    /// Who is banned.
    pub person: User,
    /// Banned, or lifted.
    pub banned: bool,
    /// Why.
    pub reason: Option<String>,
    /// Until when.
    pub expires_at: Option<NaiveDateTime>,
    /// Also remove what they posted there.
    pub remove_content: bool,
}

/// Fails with `banned` (saying where, until when and why) when `user` may not post in `forum`
/// now: banned from it, or from the whole instance. One query; none for our administrators,
/// who cannot be banned.
pub(crate) fn require_not_banned(
    conn: &mut Conn<'_>,
    user: &User,
    forum: &Forum,
) -> Result<(), ForumError> {
    match banned_from(conn, user, forum)? {
        None => Ok(()),
        Some(message) => Err(ForumError::forbidden("banned", message)),
    }
}

/// What `user` is told when a ban keeps them from posting in `forum` now (see
/// [`require_not_banned`]).
pub(crate) fn banned_from(
    conn: &mut Conn<'_>,
    user: &User,
    forum: &Forum,
) -> Result<Option<String>, ForumError> {
    if user.local && user.is_admin {
        return Ok(None);
    }
    Ok(ban_rows::in_force(conn, user.id, forum.id, db::now())?.map(|ban| banned_message(&ban)))
}

/// What a banned person is told.
fn banned_message(ban: &Ban) -> String {
    let place = if ban.forum_id.is_some() {
        "this forum"
    } else {
        "this instance"
    };
    let until = match ban.expires_at {
        Some(at) => format!(" until {}", at.format("%-d %B %Y, %H:%M UTC")),
        None => String::new(),
    };
    let why = if ban.reason.is_empty() {
        String::new()
    } else {
        format!(" The reason given: {}", ban.reason)
    };
    format!("You are banned from posting in {place}{until}.{why}")
}

/// The forum a ban concerns (`None`: the instance), if `by` may ban there: the forum's
/// moderators, or administrators for the instance.
fn ban_place(
    conn: &mut Conn<'_>,
    by: &User,
    forum_name: Option<&str>,
) -> Result<Option<Forum>, ForumError> {
    match forum_name {
        Some(name) => {
            let forum =
                forums::by_handle(conn, name)?.ok_or(ForumError::NotFound { what: "forum" })?;
            require_moderator(conn, by, &forum)?;
            Ok(Some(forum))
        }
        None => {
            require_admin(by)?;
            Ok(None)
        }
    }
}

/// Whether a ban made here is told elsewhere: always for the instance (the person's own server,
/// or for one of ours the servers that have their posts), for our forums (their followers), and
/// for a forum elsewhere when `by` is one of its moderators (an administrator's ban there holds
/// here only).
fn told_elsewhere(
    inner: &Inner,
    conn: &mut Conn<'_>,
    forum: Option<&Forum>,
    by: &User,
) -> Result<bool, ForumError> {
    Ok(inner.settings.federation.enabled
        && match forum {
            None => true,
            Some(f) => f.local || log::is_moderator(conn, f.id, by.id)?,
        })
}

impl Site {
    /// Bans a person from a forum (`forum_name`, its moderators) or from the whole instance
    /// (`None`, administrators), with a reason and an optional end, replacing an earlier ban
    /// from the same place; with `remove_content`, everything they posted there is removed
    /// too (reversibly, post by post). Administrators, oneself, and (except by an
    /// administrator) the forum's moderators cannot be banned. Recorded in the log and told to
    /// the servers that must hear of it.
    pub async fn ban(
        &self,
        by: User,
        forum_name: Option<String>,
        request: BanRequest,
        resolver: Option<&dyn Resolver>,
    ) -> Result<BanView, ForumError> {
        if forum_name.is_none() {
            require_admin(&by)?;
        }
        let person = self.person_named(&request.person, resolver).await?;
        self.blocking_then_send(move |inner, conn| {
            let forum = ban_place(conn, &by, forum_name.as_deref())?;
            let forum_id = forum.as_ref().map(|f| f.id);
            if person.id == by.id {
                return Err(ForumError::forbidden(
                    "cannot_ban_self",
                    "You cannot ban yourself",
                ));
            }
            if person.local && person.is_admin {
                return Err(ForumError::forbidden(
                    "cannot_ban_admin",
                    "Administrators cannot be banned",
                ));
            }
            if let Some(forum) = &forum {
                if !(by.local && by.is_admin) && log::is_moderator(conn, forum.id, person.id)? {
                    return Err(ForumError::forbidden(
                        "cannot_ban_moderator",
                        "Only an administrator can ban one of this forum's moderators",
                    ));
                }
            }
            let now = db::now();
            let mut v = Validator::new();
            let why = v.check("reason", Reason::parse(&request.reason, true));
            if request.expires_at.is_some_and(|at| at <= now) {
                v.check::<()>(
                    "expires_at",
                    Err("A ban must end in the future; leave the end empty for a ban until it is lifted.".into()),
                );
            }
            let (Some(why), true) = (why, v.is_empty()) else {
                return Err(v.into_error());
            };
            conn.transaction(|conn| {
                let ban = ban_rows::put(
                    conn,
                    &NewBan {
                        forum_id,
                        user_id: person.id,
                        banned_by_id: Some(by.id),
                        reason: why.as_str(),
                        expires_at: request.expires_at,
                        created_at: now,
                    },
                )?;
                if request.remove_content {
                    ban_rows::remove_posts_of(conn, person.id, forum_id, (by.id, now, why.as_str()))?;
                }
                record_in(conn, forum_id, &by, Action::Ban, Target::person(person.id), &why)?;
                let told = told_elsewhere(inner, conn, forum.as_ref(), &by)?;
                if told {
                    push_event(
                        conn,
                        &OutboxEvent::Ban {
                            forum_id,
                            person_id: person.id,
                            moderator_id: by.id,
                            banned: true,
                            reason: why.as_str().to_string(),
                            expires_at: request.expires_at,
                            remove_content: request.remove_content,
                        },
                    )?;
                }
                Ok((BanView { ban, person, forum }, told))
            })
        })
        .await
    }

    /// Lifts a person's ban from a forum (its moderators) or from the instance
    /// (administrators), recorded in the log and told where the ban was; 404 when there is
    /// none. What was removed with the ban stays removed until restored post by post.
    pub async fn unban(
        &self,
        by: User,
        forum_name: Option<String>,
        person: &str,
    ) -> Result<BanView, ForumError> {
        if forum_name.is_none() {
            require_admin(&by)?;
        }
        let person = self.person_named(person, None).await?;
        self.blocking_then_send(move |inner, conn| {
            let forum = ban_place(conn, &by, forum_name.as_deref())?;
            let forum_id = forum.as_ref().map(|f| f.id);
            conn.transaction(|conn| {
                let ban = ban_rows::lift(conn, person.id, forum_id)?
                    .ok_or(ForumError::NotFound { what: "ban" })?;
                record_in(
                    conn,
                    forum_id,
                    &by,
                    Action::Unban,
                    Target::person(person.id),
                    &Reason::default(),
                )?;
                let told = told_elsewhere(inner, conn, forum.as_ref(), &by)?;
                if told {
                    push_event(
                        conn,
                        &OutboxEvent::Ban {
                            forum_id,
                            person_id: person.id,
                            moderator_id: by.id,
                            banned: false,
                            reason: ban.reason.clone(),
                            expires_at: ban.expires_at,
                            remove_content: false,
                        },
                    )?;
                }
                Ok((BanView { ban, person, forum }, told))
            })
        })
        .await
    }

    /// The bans in force from a forum (its moderators) or from the instance (administrators),
    /// newest first.
    pub async fn bans(
        &self,
        by: User,
        forum_name: Option<String>,
    ) -> Result<(Option<Forum>, Vec<BanView>), ForumError> {
        self.blocking(move |_inner, conn| {
            let forum = ban_place(conn, &by, forum_name.as_deref())?;
            let listed = ban_rows::listed(conn, forum.as_ref().map(|f| f.id), db::now())?;
            let views = listed
                .into_iter()
                .map(|(ban, person)| BanView {
                    ban,
                    person,
                    forum: forum.clone(),
                })
                .collect();
            Ok((forum, views))
        })
        .await
    }

    /// A ban (or its lifting) from elsewhere, by `by`. From a forum: for one of ours `by` must
    /// moderate it, and it is relayed to the forum's followers; for a forum elsewhere only
    /// that forum may pass it on (`announced_by`). From the person's own server (`forum_id`
    /// `None`, checked by the caller): they are banned here too. The reason is cut to our
    /// limit.
    pub async fn receive_ban(
        &self,
        by: User,
        received: ReceivedBan,
        announced_by: Option<i64>,
        relay: Option<Relay>,
    ) -> Result<(), ForumError> {
        self.blocking_then_send(move |_inner, conn| {
            let forum = match received.forum_id {
                Some(id) => {
                    let forum =
                        forums::by_id(conn, id)?.ok_or(ForumError::NotFound { what: "forum" })?;
                    require_vouched(conn, &by, &forum, announced_by)?;
                    Some(forum)
                }
                None if received.person.local => {
                    return Err(ForumError::forbidden(
                        "moderators_only",
                        "Only this instance bans its own people from it",
                    ))
                }
                None => None,
            };
            let forum_id = forum.as_ref().map(|f| f.id);
            let person = &received.person;
            if person.local
                && person.is_admin
                && received.banned
                && forum.as_ref().is_some_and(|f| f.local)
            {
                return Err(ForumError::forbidden(
                    "cannot_ban_admin",
                    "Administrators cannot be banned",
                ));
            }
            let why = remote_reason(received.reason);
            let now = db::now();
            conn.transaction(|conn| {
                let changed = if received.banned {
                    ban_rows::put(
                        conn,
                        &NewBan {
                            forum_id,
                            user_id: person.id,
                            banned_by_id: Some(by.id),
                            reason: why.as_str(),
                            expires_at: received.expires_at,
                            created_at: now,
                        },
                    )?;
                    if received.remove_content {
                        ban_rows::remove_posts_of(
                            conn,
                            person.id,
                            forum_id,
                            (by.id, now, why.as_str()),
                        )?;
                    }
                    true
                } else {
                    ban_rows::lift(conn, person.id, forum_id)?.is_some()
                };
                if !changed {
                    return Ok(((), false));
                }
                let action = if received.banned {
                    Action::Ban
                } else {
                    Action::Unban
                };
                record_in(conn, forum_id, &by, action, Target::person(person.id), &why)?;
                let relayed = match &forum {
                    Some(forum) => relay_event(conn, forum, None, relay)?,
                    None => false,
                };
                Ok(((), relayed))
            })
        })
        .await
    }
}
