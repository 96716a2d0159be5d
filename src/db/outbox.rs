//! The durable outbox: `outbox_events` (what happened, written in the same transaction as the
//! change), `instances` (delivery state per server) and `deliveries` (one activity, kept in
//! [`super::activities`], to one inbox, sent in id order per instance).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamp};

use super::schema::{activities, deliveries, instances, outbox_events};
use super::{dispatch, Conn};

/// The `id` an `UPDATE … RETURNING id` gives back.
#[derive(QueryableByName)]
struct RowId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// An event waiting to be turned into activities.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox_events)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Event {
    /// Row id (the order events happened in).
    pub id: i64,
    /// JSON naming what happened.
    pub event: String,
}

/// Records an event.
pub fn push_event(conn: &mut Conn<'_>, event: &str, at: NaiveDateTime) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::insert_into(outbox_events::table)
        .values((
            outbox_events::event.eq(event),
            outbox_events::created_at.eq(at),
        ))
        .execute(c))
}

/// Records events in their order (a batch of replies' relays): on PostgreSQL one statement for
/// them all.
pub fn push_events(conn: &mut Conn<'_>, events: &[&str], at: NaiveDateTime) -> QueryResult<()> {
    match conn {
        Conn::Pg(c) if events.len() > 1 => {
            // In the order given (the ids are the order events happened in).
            super::prepared_sql(
                "INSERT INTO outbox_events (event, created_at) \
                 SELECT event, $1 FROM unnest($2) WITH ORDINALITY AS e(event, n) ORDER BY n",
            )
            .bind::<Timestamp, _>(at)
            .bind::<Array<Text>, _>(events)
            .execute(*c)?;
        }
        _ => {
            for event in events {
                push_event(conn, event, at)?;
            }
        }
    }
    Ok(())
}

/// The oldest events not yet expanded.
pub fn pending_events(conn: &mut Conn<'_>, limit: i64) -> QueryResult<Vec<Event>> {
    dispatch!(conn, |c| outbox_events::table
        .filter(outbox_events::expanded_at.is_null())
        .order(outbox_events::id.asc())
        .limit(limit)
        .select(Event::as_select())
        .load(c))
}

/// Marks an event expanded; false if another worker did it first.
pub fn mark_expanded(conn: &mut Conn<'_>, id: i64, at: NaiveDateTime) -> QueryResult<bool> {
    Ok(!mark_expanded_each(conn, &[id], at)?.is_empty())
}

/// Marks events expanded, in one statement; the ids of those it marked (not those another
/// worker marked first).
pub fn mark_expanded_each(
    conn: &mut Conn<'_>,
    ids: &[i64],
    at: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    // Written in SQL so that it stays prepared (see `prepared_sql`): every round of events
    // runs it.
    let marked: Vec<RowId> = dispatch!(conn, |c| super::prepared_sql(
        "UPDATE outbox_events SET expanded_at = $1 \
         WHERE id = ANY($2) AND expanded_at IS NULL RETURNING id"
    )
    .bind::<Timestamp, _>(at)
    .bind::<super::IdList, _>(super::Ids(ids))
    .load(c))?;
    Ok(marked.into_iter().map(|m| m.id).collect())
}

/// Forgets expanded events older than `before`.
pub fn prune_events(conn: &mut Conn<'_>, before: NaiveDateTime) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(
        outbox_events::table
            .filter(outbox_events::expanded_at.is_not_null())
            .filter(outbox_events::created_at.lt(before))
    )
    .execute(c))
}

/// A server and the state of delivery to it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = instances)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Instance {
    /// Row id.
    pub id: i64,
    /// Host (and port).
    pub domain: String,
    /// Failed attempts in a row.
    pub failures: i64,
    /// Not before this.
    pub next_attempt_at: Option<NaiveDateTime>,
    /// First failure of the current run.
    pub failing_since: Option<NaiveDateTime>,
    /// Failing for too long: skipped until heard from.
    pub dead: bool,
    /// What went wrong last.
    pub last_error: Option<String>,
    /// The software it runs, as its NodeInfo names it (lower case), once looked up.
    pub software: Option<String>,
    /// When its software was last looked up (or taken for looking up).
    pub software_checked_at: Option<NaiveDateTime>,
}

/// Rows written by one statement at the most (SQLite allows 32,766 bound values; these rows
/// have at most 4).
const CHUNK: usize = 1000;

/// The ids of the instances at `domains`, made where missing: two statements (on SQLite per
/// [`CHUNK`] domains), however many there are.
pub fn instance_ids(
    conn: &mut Conn<'_>,
    domains: &[&str],
    at: NaiveDateTime,
) -> QueryResult<Vec<(i64, String)>> {
    if let Conn::Pg(c) = conn {
        // One statement each however many there are: lists are bound as arrays.
        super::prepared_sql(
            "INSERT INTO instances (domain, created_at) SELECT domain, $1 \
             FROM unnest($2) AS i(domain) ON CONFLICT (domain) DO NOTHING",
        )
        .bind::<Timestamp, _>(at)
        .bind::<Array<Text>, _>(domains)
        .execute(*c)?;
        #[derive(QueryableByName)]
        struct Known {
            #[diesel(sql_type = BigInt)]
            id: i64,
            #[diesel(sql_type = Text)]
            domain: String,
        }
        let known: Vec<Known> =
            super::prepared_sql("SELECT id, domain FROM instances WHERE domain = ANY($1)")
                .bind::<Array<Text>, _>(domains)
                .load(*c)?;
        return Ok(known.into_iter().map(|k| (k.id, k.domain)).collect());
    }
    let mut out = Vec::with_capacity(domains.len());
    for chunk in domains.chunks(CHUNK) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|d| (instances::domain.eq(*d), instances::created_at.eq(at)))
            .collect();
        // Known ones are left as they are (an upsert would rewrite every row), then all read.
        dispatch!(conn, |c| diesel::insert_into(instances::table)
            .values(&rows)
            .on_conflict(instances::domain)
            .do_nothing()
            .execute(c))?;
        let ids: Vec<(i64, String)> = dispatch!(conn, |c| instances::table
            .filter(instances::domain.eq_any(chunk))
            .select((instances::id, instances::domain))
            .load(c))?;
        out.extend(ids);
    }
    Ok(out)
}

/// One delivery to queue: an activity for an inbox on an instance.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = deliveries)]
pub struct NewDelivery<'a> {
    /// `activities.id`.
    pub activity_id: i64,
    /// `instances.id`.
    pub instance_id: i64,
    /// The inbox.
    pub inbox_url: &'a str,
    /// Now.
    pub created_at: NaiveDateTime,
}

/// Queues deliveries made together (all at the first one's `created_at`): on PostgreSQL one
/// statement, on SQLite one per [`CHUNK`] of them.
pub fn insert_deliveries(conn: &mut Conn<'_>, new: &[NewDelivery<'_>]) -> QueryResult<usize> {
    if let (Conn::Pg(c), [first, ..]) = (&mut *conn, new) {
        // One statement however many there are, kept prepared: the columns bound as arrays,
        // the rows taken in the order given (the order each server gets them in).
        return super::prepared_sql(
            "INSERT INTO deliveries (activity_id, instance_id, inbox_url, created_at) \
             SELECT activity_id, instance_id, inbox_url, $1 \
             FROM unnest($2, $3, $4) WITH ORDINALITY AS d(activity_id, instance_id, inbox_url, n) \
             ORDER BY n",
        )
        .bind::<Timestamp, _>(first.created_at)
        .bind::<Array<BigInt>, _>(new.iter().map(|d| d.activity_id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(new.iter().map(|d| d.instance_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(new.iter().map(|d| d.inbox_url).collect::<Vec<_>>())
        .execute(*c);
    }
    let mut n = 0;
    for chunk in new.chunks(CHUNK) {
        n += dispatch!(conn, |c| diesel::insert_into(deliveries::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(n)
}

/// Instances with deliveries waiting that are due now and not being worked on elsewhere.
pub fn due_instances(
    conn: &mut Conn<'_>,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Instance>> {
    dispatch!(conn, |c| instances::table
        .filter(diesel::dsl::exists(
            deliveries::table.filter(deliveries::instance_id.eq(instances::id))
        ))
        .filter(instances::dead.eq(false))
        .filter(
            instances::next_attempt_at
                .is_null()
                .or(instances::next_attempt_at.le(now))
        )
        .filter(
            instances::lease_until
                .is_null()
                .or(instances::lease_until.lt(now))
        )
        // Fair: servers not failing first (never tried, or healthy), then those failing least,
        // so retries of servers that keep failing never crowd out the rest.
        .order((instances::failures.asc(), instances::id.asc()))
        .limit(limit)
        .select(Instance::as_select())
        .load(c))
}

/// When the next delivery falls due (for the worker to sleep until), if any is waiting.
pub fn next_due_at(conn: &mut Conn<'_>) -> QueryResult<Option<NaiveDateTime>> {
    dispatch!(conn, |c| instances::table
        .filter(diesel::dsl::exists(
            deliveries::table.filter(deliveries::instance_id.eq(instances::id))
        ))
        .filter(instances::dead.eq(false))
        .select(diesel::dsl::min(instances::next_attempt_at))
        .first(c))
}

/// Whether any delivery waits for a live instance (stops at the first: the same cost with 100
/// or 500,000 waiting).
pub fn waiting_exists(conn: &mut Conn<'_>) -> QueryResult<bool> {
    dispatch!(conn, |c| diesel::select(diesel::dsl::exists(
        deliveries::table
            .inner_join(instances::table)
            .filter(instances::dead.eq(false))
    ))
    .get_result(c))
}

/// Takes the instances `ids` for the worker `owner` until `until`, in one statement; returns
/// the ids it got (not those another worker holds).
pub fn claim(
    conn: &mut Conn<'_>,
    ids: &[i64],
    owner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    // Written in SQL so that it stays prepared (see `prepared_sql`): every round of deliveries
    // runs it.
    let claimed: Vec<RowId> = dispatch!(conn, |c| super::prepared_sql(
        "UPDATE instances SET lease_until = $1, lease_owner = $2 \
         WHERE id = ANY($3) AND (lease_until IS NULL OR lease_until < $4) RETURNING id"
    )
    .bind::<Timestamp, _>(until)
    .bind::<Text, _>(owner)
    .bind::<super::IdList, _>(super::Ids(ids))
    .bind::<Timestamp, _>(now)
    .load(c))?;
    Ok(claimed.into_iter().map(|c| c.id).collect())
}

/// Extends to `until` the leases `owner` still holds among `ids`; returns how many.
pub fn renew(
    conn: &mut Conn<'_>,
    ids: &[i64],
    owner: &str,
    until: NaiveDateTime,
) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(
        instances::table
            .filter(super::any_id(instances::id, ids))
            .filter(instances::lease_owner.eq(owner))
    )
    .set(instances::lease_until.eq(until))
    .execute(c))
}

/// Lets go of an instance, if `owner` holds it.
pub fn release(conn: &mut Conn<'_>, id: i64, owner: &str) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(
        instances::table
            .find(id)
            .filter(instances::lease_owner.eq(owner))
    )
    .set((
        instances::lease_until.eq(None::<NaiveDateTime>),
        instances::lease_owner.eq(None::<String>),
    ))
    .execute(c))
}

/// Lets go of every instance held by a worker whose name starts with `prefix`, or by any.
pub fn release_all(conn: &mut Conn<'_>, prefix: Option<&str>) -> QueryResult<usize> {
    dispatch!(conn, |c| {
        let mut q = diesel::update(instances::table)
            .filter(instances::lease_until.is_not_null())
            .into_boxed();
        if let Some(prefix) = prefix {
            // `LIKE` with the prefix's own wildcards taken literally.
            let escaped = prefix
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q = q.filter(
                instances::lease_owner
                    .like(format!("{escaped}%"))
                    .escape('\\'),
            );
        }
        q.set((
            instances::lease_until.eq(None::<NaiveDateTime>),
            instances::lease_owner.eq(None::<String>),
        ))
        .execute(c)
    })
}

/// The next delivery to an instance: (delivery id, inbox, activity id, JSON, signing person,
/// signing forum).
pub type Waiting = (i64, String, String, String, Option<i64>, Option<i64>);

/// The oldest `limit` deliveries waiting for an instance, in order.
pub fn next_deliveries(
    conn: &mut Conn<'_>,
    instance_id: i64,
    limit: i64,
) -> QueryResult<Vec<Waiting>> {
    dispatch!(conn, |c| deliveries::table
        .inner_join(activities::table)
        .filter(deliveries::instance_id.eq(instance_id))
        .order(deliveries::id.asc())
        .limit(limit)
        .select((
            deliveries::id,
            deliveries::inbox_url,
            activities::ap_id,
            activities::body,
            activities::signer_user_id,
            activities::signer_forum_id,
        ))
        .load(c))
}

/// Deliveries that went through (or were refused for good, or can never be sent): forget them.
pub fn delete_deliveries(conn: &mut Conn<'_>, delivery_ids: &[i64]) -> QueryResult<usize> {
    // Written in SQL so that it stays prepared (see `prepared_sql`): every round of deliveries
    // runs it.
    dispatch!(conn, |c| super::prepared_sql(
        "DELETE FROM deliveries WHERE id = ANY($1)"
    )
    .bind::<super::IdList, _>(super::Ids(delivery_ids))
    .execute(c))
}

/// Lets go of an instance that took a delivery, if `owner` holds it: it is healthy (no
/// failures, not dead) as of `at`.
pub fn release_healthy(
    conn: &mut Conn<'_>,
    instance_id: i64,
    owner: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    // Written in SQL so that it stays prepared (see `prepared_sql`): every round of deliveries
    // runs it.
    dispatch!(conn, |c| super::prepared_sql(
        "UPDATE instances SET lease_until = NULL, lease_owner = NULL, failures = 0, \
         failing_since = NULL, next_attempt_at = NULL, dead = FALSE, last_error = NULL, \
         last_success_at = $1 WHERE id = $2 AND lease_owner = $3"
    )
    .bind::<Timestamp, _>(at)
    .bind::<BigInt, _>(instance_id)
    .bind::<Text, _>(owner)
    .execute(c))?;
    Ok(())
}

/// An attempt failed: record it and when to try again.
pub fn failed(
    conn: &mut Conn<'_>,
    instance_id: i64,
    failures: i64,
    failing_since: NaiveDateTime,
    next_attempt_at: NaiveDateTime,
    dead: bool,
    error: &str,
) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(instances::table.find(instance_id))
        .set((
            instances::failures.eq(failures),
            instances::failing_since.eq(failing_since),
            instances::next_attempt_at.eq(next_attempt_at),
            instances::dead.eq(dead),
            instances::last_error.eq(error),
        ))
        .execute(c))
}

/// A server sent us something: it is alive, so deliveries to it resume now.
pub fn heard_from(conn: &mut Conn<'_>, domain: &str, at: NaiveDateTime) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(
        instances::table.filter(instances::domain.eq(domain))
    )
    .set((
        instances::last_heard_at.eq(at),
        instances::dead.eq(false),
        instances::next_attempt_at.eq(None::<NaiveDateTime>),
    ))
    .execute(c))
}

/// Events not yet expanded and deliveries waiting for live instances.
pub fn backlog(conn: &mut Conn<'_>) -> QueryResult<(i64, i64)> {
    let events = dispatch!(conn, |c| outbox_events::table
        .filter(outbox_events::expanded_at.is_null())
        .count()
        .get_result(c))?;
    let waiting = dispatch!(conn, |c| deliveries::table
        .inner_join(instances::table)
        .filter(instances::dead.eq(false))
        .count()
        .get_result(c))?;
    Ok((events, waiting))
}

/// An instance's delivery state, by domain.
pub fn instance_by_domain(conn: &mut Conn<'_>, domain: &str) -> QueryResult<Option<Instance>> {
    dispatch!(conn, |c| instances::table
        .filter(instances::domain.eq(domain))
        .select(Instance::as_select())
        .first(c)
        .optional())
}

/// Claims up to `limit` live instances whose software was never looked up, or last looked up
/// before `before`: marks them looked up at `at` (so no other look-up takes them) and returns
/// them.
pub fn claim_software_due(
    conn: &mut Conn<'_>,
    before: NaiveDateTime,
    at: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(i64, String)>> {
    let due: Vec<(i64, String)> = dispatch!(conn, |c| instances::table
        .filter(instances::dead.eq(false))
        .filter(
            instances::software_checked_at
                .is_null()
                .or(instances::software_checked_at.lt(before))
        )
        .order(instances::id.asc())
        .select((instances::id, instances::domain))
        .limit(limit)
        .load(c))?;
    if due.is_empty() {
        return Ok(due);
    }
    let ids: Vec<i64> = due.iter().map(|(id, _)| *id).collect();
    // Written in SQL so that it stays prepared (see `prepared_sql`), like every statement the
    // delivery worker runs on its own.
    dispatch!(conn, |c| super::prepared_sql(
        "UPDATE instances SET software_checked_at = $1 WHERE id = ANY($2)"
    )
    .bind::<Timestamp, _>(at)
    .bind::<super::IdList, _>(super::Ids(&ids))
    .execute(c))?;
    Ok(due)
}

/// Records what an instance runs (`None`: it could not be told), looked up at `at`.
pub fn record_software(
    conn: &mut Conn<'_>,
    id: i64,
    software: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    // Written in SQL so that it stays prepared (see `prepared_sql`), like every statement the
    // delivery worker runs on its own.
    dispatch!(conn, |c| super::prepared_sql(
        "UPDATE instances SET software = $1, software_checked_at = $2 WHERE id = $3"
    )
    .bind::<diesel::sql_types::Nullable<Text>, _>(software)
    .bind::<Timestamp, _>(at)
    .bind::<BigInt, _>(id)
    .execute(c))
}

/// The software of each of `domains` that is known: one statement (on SQLite per [`CHUNK`] of
/// them).
pub fn software_of(conn: &mut Conn<'_>, domains: &[&str]) -> QueryResult<Vec<(String, String)>> {
    if let Conn::Pg(c) = conn {
        #[derive(QueryableByName)]
        struct Known {
            #[diesel(sql_type = Text)]
            domain: String,
            #[diesel(sql_type = Text)]
            software: String,
        }
        let known: Vec<Known> = super::prepared_sql(
            "SELECT domain, software FROM instances \
             WHERE domain = ANY($1) AND software IS NOT NULL",
        )
        .bind::<Array<Text>, _>(domains)
        .load(*c)?;
        return Ok(known.into_iter().map(|k| (k.domain, k.software)).collect());
    }
    let mut out = Vec::new();
    for chunk in domains.chunks(CHUNK) {
        let rows: Vec<(String, Option<String>)> = dispatch!(conn, |c| instances::table
            .filter(instances::domain.eq_any(chunk))
            .filter(instances::software.is_not_null())
            .select((instances::domain, instances::software))
            .load(c))?;
        out.extend(rows.into_iter().filter_map(|(d, s)| Some((d, s?))));
    }
    Ok(out)
}
