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

/// Forgets ids received before `before` (senders stop retrying long before).
pub fn prune(conn: &mut Conn<'_>, before: NaiveDateTime) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(
        received_activities::table.filter(received_activities::received_at.lt(before))
    )
    .execute(c))
}
