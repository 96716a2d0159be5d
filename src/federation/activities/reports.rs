//! Reports on the wire: `Flag`. One from elsewhere naming posts here (ours, or stored from
//! elsewhere) puts a report of each in the queue of the post's forum; one about a person only,
//! or about posts not known here, is acknowledged and left aside. A report made here about a
//! post from elsewhere, or in a forum elsewhere, is sent as Lemmy sends it: by the reporter,
//! `object` the post, the reason in `summary` (and in `content`, which Mastodon reads),
//! addressed to the forum, to the servers the forum and the post live on. A report closed by a
//! moderator goes out as Lemmy's `Resolve` of the `Flag`, to the reporter's server and the
//! forum's when either is elsewhere; one received closes our copy when its actor moderates
//! the forum.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::object_id::ObjectId;
use serde_json::json;
use url::Url;

use crate::federation::activities::posts::known_post;
use crate::federation::actors::{is_local, ApUser};
use crate::federation::error::FederationError;
use crate::federation::outgoing::{person_inbox, planned, remote_forum_inboxes, url};
use crate::federation::protocol::activities::{Flag, Resolve};
use crate::federation::protocol::PUBLIC;
use crate::forum::moderation::ReceivedReport;
use crate::forum::outbox::{PlannedActivity, Signer};
use crate::forum::Site;

/// The post `url` names, if it is known here; nothing is fetched (a report names what the
/// reporter saw, which is here or was never ours to judge).
async fn post_here(
    url: &Url,
    data: &Data<Site>,
) -> Result<Option<crate::forum::threads::PostContext>, FederationError> {
    if is_local(data, url) {
        return Ok(known_post(url, data).await.ok());
    }
    Ok(data.post_by_ap_id(url.to_string()).await?)
}

impl Flag {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        Ok(())
    }

    /// Does what the activity asks: each post named that is known here is reported to its
    /// forum's moderators.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let mut posts = Vec::new();
        for object in &self.object {
            if let Some(post) = post_here(object, data).await? {
                posts.push(post);
            }
        }
        if posts.is_empty() {
            tracing::info!(id = %self.id, actor = %self.actor, "report naming no post known here left aside");
            return Ok(());
        }
        let reporter = ObjectId::<ApUser>::from(self.actor.clone())
            .dereference(data)
            .await?
            .user;
        let reason = self.summary.clone().or_else(|| self.content.clone());
        for (n, post) in posts.into_iter().enumerate() {
            // One report per post; the first keeps the Flag's id, the others a derived one.
            let ap_id = if n == 0 {
                self.id.to_string()
            } else {
                format!("{}#{}", self.id, n)
            };
            data.receive_report(ReceivedReport {
                ap_id,
                reporter: reporter.clone(),
                post_id: post.post.id,
                reason: reason.clone(),
            })
            .await?;
        }
        Ok(())
    }
}

/// A report made or received here, with what it names; none when it is gone.
async fn report_view(
    report_id: i64,
    data: &Data<Site>,
) -> Result<Option<crate::forum::moderation::ReportView>, FederationError> {
    match data.report(report_id).await {
        Ok(view) => Ok(Some(view)),
        Err(crate::error::ForumError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl Resolve {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        Ok(())
    }

    /// Does what the activity asks: the report made by the `Flag` is closed, when the actor
    /// moderates its forum.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let moderator = ObjectId::<ApUser>::from(self.actor.clone())
            .dereference(data)
            .await?
            .user;
        let flag = self.object.id().to_string();
        match data
            .receive_report_resolution(moderator.clone(), flag.clone())
            .await
        {
            Err(crate::error::ForumError::Forbidden {
                code: "moderators_only",
                ..
            }) => {
                // A forum elsewhere may have appointed them since it was last read: read its
                // moderators again, once, and ask again.
                if let Some(forum) = data.report_forum(flag.clone()).await? {
                    if let (false, Some(id)) = (forum.local, forum.ap_id.as_deref()) {
                        let collection = url(&format!("{id}/moderators"))?;
                        crate::federation::actors::read_moderators(&forum, &collection, data).await;
                    }
                }
                data.receive_report_resolution(moderator, flag).await?;
            }
            other => other?,
        }
        Ok(())
    }
}

/// What a moderator here closing a report that other servers know of becomes: their
/// `Resolve` of its `Flag` (whole, as Lemmy sends it), to the reporter's server when they
/// live elsewhere and to the forum's when it does.
pub async fn plan_resolve(
    report_id: i64,
    moderator_id: i64,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let Some(view) = report_view(report_id, data).await? else {
        return Ok(Vec::new());
    };
    let (Some(flag_id), Some(moderator)) = (
        view.report.ap_id.clone(),
        data.user_by_id(moderator_id).await?,
    ) else {
        return Ok(Vec::new());
    };
    let urls = data.urls();
    let ctx = &view.post;
    let forum_url = url(&urls.forum(&ctx.forum))?;
    let id = data.new_activity_id("resolve");
    let body = json!({
        "type": "Resolve",
        "id": id,
        "actor": url(&urls.user(&moderator))?,
        "object": {
            "type": "Flag",
            "id": flag_id,
            "actor": url(&urls.user(&view.reporter))?,
            "object": url(&urls.post(&ctx.post))?,
            "summary": view.report.reason,
            "to": [forum_url],
            "audience": forum_url,
        },
        "to": [forum_url],
        "audience": forum_url,
    });
    let mut inboxes: Vec<Url> = person_inbox(&view.reporter)?.into_iter().collect();
    if !ctx.forum.local {
        inboxes.extend(remote_forum_inboxes(&ctx.forum, &forum_url, None)?);
    }
    inboxes.sort();
    inboxes.dedup();
    Ok(vec![planned(
        &id,
        "Resolve",
        Signer::User(moderator.id),
        &body,
        inboxes,
    )?])
}

/// What a report made here becomes: the reporter's `Flag` of the post, to the forum's server
/// when the forum lives elsewhere, and to the post's own server when that is yet another.
pub async fn plan_report(
    report_id: i64,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let Some(view) = report_view(report_id, data).await? else {
        return Ok(Vec::new());
    };
    let Some(id) = view.report.ap_id.clone() else {
        return Ok(Vec::new());
    };
    let urls = data.urls();
    let ctx = &view.post;
    let forum_url = url(&urls.forum(&ctx.forum))?;
    let body = json!({
        "type": "Flag",
        "id": id,
        "actor": url(&urls.user(&view.reporter))?,
        "object": url(&urls.post(&ctx.post))?,
        "summary": view.report.reason,
        "content": view.report.reason,
        "to": [forum_url],
        "cc": [PUBLIC],
        "audience": forum_url,
    });
    let inboxes = if ctx.forum.local {
        // Only the author lives elsewhere: their server hears of it.
        person_inbox(&ctx.author)?.into_iter().collect()
    } else {
        remote_forum_inboxes(&ctx.forum, &forum_url, Some(&ctx.author))?
    };
    Ok(vec![planned(
        &id,
        "Flag",
        Signer::User(view.reporter.id),
        &body,
        inboxes,
    )?])
}
