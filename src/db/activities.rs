//! `activities`: the activities this instance made, kept (by their id) while deliveries of
//! them wait, and served at their id for a while after.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamp};

use super::schema::{activities, deliveries};
use super::{dispatch, Conn};

/// An activity to store.
#[derive(Debug, Insertable)]
#[diesel(table_name = activities)]
// NULL for `None`, so the insert stays prepared (see the `db` module).
#[diesel(treat_none_as_default_value = false)]
pub struct NewActivity<'a> {
    /// Its id.
    pub ap_id: &'a str,
    /// Its type.
    pub kind: &'a str,
    /// The local person who signs it.
    pub signer_user_id: Option<i64>,
    /// The local forum that signs it.
    pub signer_forum_id: Option<i64>,
    /// The JSON.
    pub body: &'a str,
    /// Now.
    pub created_at: NaiveDateTime,
}

/// Stores an activity; returns its row id.
pub fn insert_activity(conn: &mut Conn<'_>, new: &NewActivity<'_>) -> QueryResult<i64> {
    dispatch!(conn, |c| diesel::insert_into(activities::table)
        .values(new)
        .returning(activities::id)
        .get_result(c))
}

/// Stores activities made together (all at the first one's `created_at`); their row ids, in
/// the order given. On PostgreSQL one statement for them all.
pub fn insert_activities(conn: &mut Conn<'_>, new: &[NewActivity<'_>]) -> QueryResult<Vec<i64>> {
    match conn {
        Conn::Pg(c) if new.len() > 1 => {
            use diesel::sql_types::Nullable;
            #[derive(QueryableByName)]
            struct Stored {
                #[diesel(sql_type = BigInt)]
                id: i64,
                #[diesel(sql_type = Text)]
                ap_id: String,
            }
            let at = new[0].created_at;
            let stored: Vec<Stored> = super::prepared_sql(
                "INSERT INTO activities (ap_id, kind, signer_user_id, signer_forum_id, body, created_at) \
                 SELECT ap_id, kind, signer_user_id, signer_forum_id, body, $1 \
                 FROM unnest($2, $3, $4, $5, $6) WITH ORDINALITY \
                 AS a(ap_id, kind, signer_user_id, signer_forum_id, body, n) \
                 ORDER BY n RETURNING id, ap_id",
            )
            .bind::<Timestamp, _>(at)
            .bind::<Array<Text>, _>(new.iter().map(|a| a.ap_id).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(new.iter().map(|a| a.kind).collect::<Vec<_>>())
            .bind::<Array<Nullable<BigInt>>, _>(
                new.iter().map(|a| a.signer_user_id).collect::<Vec<_>>(),
            )
            .bind::<Array<Nullable<BigInt>>, _>(
                new.iter().map(|a| a.signer_forum_id).collect::<Vec<_>>(),
            )
            .bind::<Array<Text>, _>(new.iter().map(|a| a.body).collect::<Vec<_>>())
            .load(*c)?;
            // By id, not by the order rows come back in, which SQL does not promise.
            let ids: std::collections::HashMap<String, i64> =
                stored.into_iter().map(|s| (s.ap_id, s.id)).collect();
            new.iter()
                .map(|a| {
                    ids.get(a.ap_id).copied().ok_or_else(|| {
                        diesel::result::Error::QueryBuilderError(
                            format!("activity {} was not stored", a.ap_id).into(),
                        )
                    })
                })
                .collect()
        }
        _ => new.iter().map(|a| insert_activity(conn, a)).collect(),
    }
}

/// A sent activity's type and JSON, by its id.
pub fn activity_body(conn: &mut Conn<'_>, ap_id: &str) -> QueryResult<Option<(String, String)>> {
    dispatch!(conn, |c| activities::table
        .filter(activities::ap_id.eq(ap_id))
        .select((activities::kind, activities::body))
        .first(c)
        .optional())
}

/// Forgets activities made before `before` that wait for no delivery.
pub fn prune_activities(conn: &mut Conn<'_>, before: NaiveDateTime) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(
        activities::table
            .filter(activities::created_at.lt(before))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                deliveries::table.filter(deliveries::activity_id.eq(activities::id))
            )))
    )
    .execute(c))
}

/// How many activities of a type this instance has made.
pub fn count_activities(conn: &mut Conn<'_>, kind: &str) -> QueryResult<i64> {
    dispatch!(conn, |c| activities::table
        .filter(activities::kind.eq(kind))
        .count()
        .get_result(c))
}
