//! `received_activities`: the ids of activities taken in, so a repeat is acknowledged and
//! ignored (senders retry, and relays deliver the same activity more than once).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::received_activities;
use super::{dispatch, Conn};

/// Whether this activity id was taken in before.
pub fn seen(conn: &mut Conn<'_>, ap_id: &str) -> QueryResult<bool> {
    dispatch!(conn, |c| diesel::select(diesel::dsl::exists(
        received_activities::table.filter(received_activities::ap_id.eq(ap_id))
    ))
    .get_result(c))
}

/// Records an activity id; returns false when it was recorded already.
pub fn record(conn: &mut Conn<'_>, ap_id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let inserted = dispatch!(conn, |c| diesel::insert_into(received_activities::table)
        .values((
            received_activities::ap_id.eq(ap_id),
            received_activities::received_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted > 0)
}

/// Records activity ids taken in together (a batch of replies): on PostgreSQL one statement
/// for them all, so a batch pays one round trip instead of one per activity.
pub fn record_each(conn: &mut Conn<'_>, ap_ids: &[&str], at: NaiveDateTime) -> QueryResult<()> {
    match conn {
        Conn::Pg(c) if ap_ids.len() > 1 => {
            use diesel::sql_types::{Array, Text, Timestamp};
            super::prepared_sql(
                "INSERT INTO received_activities (ap_id, received_at) \
                 SELECT ap_id, $1 FROM unnest($2) AS r(ap_id) ON CONFLICT DO NOTHING",
            )
            .bind::<Timestamp, _>(at)
            .bind::<Array<Text>, _>(ap_ids)
            .execute(*c)?;
        }
        _ => {
            for ap_id in ap_ids {
                record(conn, ap_id, at)?;
            }
        }
    }
    Ok(())
}

/// Forgets ids received before `before` (senders stop retrying long before).
pub fn prune(conn: &mut Conn<'_>, before: NaiveDateTime) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(
        received_activities::table.filter(received_activities::received_at.lt(before))
    )
    .execute(c))
}
