//! `instance_blocks`: servers administrators blocked from the admin pages.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::instance_blocks;
use super::{dispatch, Conn};

/// A blocked server.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = instance_blocks)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct InstanceBlock {
    /// Row id.
    pub id: i64,
    /// The server's domain (lowercase; `host:port` when it has one).
    pub domain: String,
    /// Why.
    pub reason: String,
    /// The administrator.
    pub created_by_id: Option<i64>,
    /// When.
    pub created_at: NaiveDateTime,
}

/// Every blocked server, in the order blocked (an instance blocks few).
pub fn all(conn: &mut Conn<'_>) -> QueryResult<Vec<InstanceBlock>> {
    dispatch!(conn, |c| instance_blocks::table
        .order(instance_blocks::id)
        .select(InstanceBlock::as_select())
        .load(c))
}

/// Blocks a server; false when it was blocked already.
pub fn insert(
    conn: &mut Conn<'_>,
    domain: &str,
    reason: &str,
    by: i64,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let added = dispatch!(conn, |c| diesel::insert_into(instance_blocks::table)
        .values((
            instance_blocks::domain.eq(domain),
            instance_blocks::reason.eq(reason),
            instance_blocks::created_by_id.eq(by),
            instance_blocks::created_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(added > 0)
}

/// Unblocks a server; whether it was blocked here.
pub fn delete(conn: &mut Conn<'_>, domain: &str) -> QueryResult<bool> {
    let deleted = dispatch!(conn, |c| diesel::delete(
        instance_blocks::table.filter(instance_blocks::domain.eq(domain))
    )
    .execute(c))?;
    Ok(deleted > 0)
}
