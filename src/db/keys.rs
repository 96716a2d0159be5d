//! Actor keys: the RSA key pairs of local people and forums (columns of `users` and `forums`)
//! and of the instance actor (`instance_actor`). Keys are made when first needed; writing them
//! only where none exist yet means two requests racing to make one agree on the winner.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{forums, instance_actor, users};
use super::{dispatch, Conn};

/// A key pair in PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPair {
    /// SPKI public key.
    pub public_key: String,
    /// PKCS#8 private key.
    pub private_key: String,
}

fn pair(row: Option<(Option<String>, Option<String>)>) -> Option<KeyPair> {
    match row {
        Some((Some(public_key), Some(private_key))) => Some(KeyPair {
            public_key,
            private_key,
        }),
        _ => None,
    }
}

/// A person's keys, if made.
pub fn of_user(conn: &mut Conn<'_>, id: i64) -> QueryResult<Option<KeyPair>> {
    let row = dispatch!(conn, |c| users::table
        .find(id)
        .select((users::public_key, users::private_key))
        .first(c)
        .optional())?;
    Ok(pair(row))
}

/// Stores a person's keys unless they have some already.
pub fn set_user_if_missing(conn: &mut Conn<'_>, id: i64, keys: &KeyPair) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(
        users::table.find(id).filter(users::public_key.is_null())
    )
    .set((
        users::public_key.eq(&keys.public_key),
        users::private_key.eq(&keys.private_key),
    ))
    .execute(c))
}

/// A forum's keys, if made.
pub fn of_forum(conn: &mut Conn<'_>, id: i64) -> QueryResult<Option<KeyPair>> {
    let row = dispatch!(conn, |c| forums::table
        .find(id)
        .select((forums::public_key, forums::private_key))
        .first(c)
        .optional())?;
    Ok(pair(row))
}

/// Stores a forum's keys unless it has some already.
pub fn set_forum_if_missing(conn: &mut Conn<'_>, id: i64, keys: &KeyPair) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(
        forums::table.find(id).filter(forums::public_key.is_null())
    )
    .set((
        forums::public_key.eq(&keys.public_key),
        forums::private_key.eq(&keys.private_key),
    ))
    .execute(c))
}

/// The instance actor's keys, if made.
pub fn of_instance(conn: &mut Conn<'_>) -> QueryResult<Option<KeyPair>> {
    let row = dispatch!(conn, |c| instance_actor::table
        .find(1i64)
        .select((instance_actor::public_key, instance_actor::private_key))
        .first::<(String, String)>(c)
        .optional())?;
    Ok(row.map(|(public_key, private_key)| KeyPair {
        public_key,
        private_key,
    }))
}

/// Stores the instance actor's keys unless it has some already.
pub fn set_instance_if_missing(
    conn: &mut Conn<'_>,
    keys: &KeyPair,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::insert_into(instance_actor::table)
        .values((
            instance_actor::id.eq(1i64),
            instance_actor::public_key.eq(&keys.public_key),
            instance_actor::private_key.eq(&keys.private_key),
            instance_actor::created_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(c))
}
