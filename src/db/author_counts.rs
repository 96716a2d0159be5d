//! How many posts each person has shown (neither deleted nor removed) in each forum: the
//! counts of a profile, summed over the forums its reader may see.
//!
//! New posts and moved threads are counted here by the code that stores or moves them, after
//! the thread's and forums' rows and in key order, so that concurrent writers take these rows
//! in one order (on PostgreSQL each stays locked until the commit). Deletions, removals and
//! restorations are counted by a trigger (the `author_counts` migration), whatever code makes
//! them.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::schema::{author_counts, posts};
use super::{dispatch, Conn};

/// Counts `(threads, replies)` new posts by `author_id` in `forum_id`.
pub fn add(
    conn: &mut Conn<'_>,
    author_id: i64,
    forum_id: i64,
    (threads, replies): (i64, i64),
) -> QueryResult<usize> {
    // Written in SQL so that it stays prepared (see `prepared_sql`): every post runs it.
    dispatch!(conn, |c| {
        super::prepared_sql(
        "INSERT INTO author_counts (author_id, forum_id, threads, replies) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (author_id, forum_id) DO UPDATE SET \
         threads = author_counts.threads + excluded.threads, \
         replies = author_counts.replies + excluded.replies"
    )
    .bind::<BigInt, _>(author_id)
    .bind::<BigInt, _>(forum_id)
    .bind::<BigInt, _>(threads)
    .bind::<BigInt, _>(replies)
    .execute(c)
    })
}

/// Counts new posts by several authors, `(author_id, forum_id, threads, replies)`, each pair
/// at most once (a batch's, summed): on PostgreSQL one statement for them all, its rows taken
/// in the order given (give them sorted, so that two batches never wait on each other's rows
/// in a circle).
pub fn add_each(conn: &mut Conn<'_>, counts: &[(i64, i64, i64, i64)]) -> QueryResult<()> {
    match conn {
        Conn::Pg(c) if counts.len() > 1 => {
            use diesel::sql_types::Array;
            let column =
                |f: fn(&(i64, i64, i64, i64)) -> i64| counts.iter().map(f).collect::<Vec<_>>();
            super::prepared_sql(
                "INSERT INTO author_counts (author_id, forum_id, threads, replies) \
                 SELECT author_id, forum_id, threads, replies \
                 FROM unnest($1, $2, $3, $4) WITH ORDINALITY AS c(author_id, forum_id, threads, replies, n) \
                 ORDER BY n \
                 ON CONFLICT (author_id, forum_id) DO UPDATE SET \
                 threads = author_counts.threads + excluded.threads, \
                 replies = author_counts.replies + excluded.replies",
            )
            .bind::<Array<BigInt>, _>(column(|c| c.0))
            .bind::<Array<BigInt>, _>(column(|c| c.1))
            .bind::<Array<BigInt>, _>(column(|c| c.2))
            .bind::<Array<BigInt>, _>(column(|c| c.3))
            .execute(*c)?;
        }
        _ => {
            for &(author_id, forum_id, threads, replies) in counts {
                add(conn, author_id, forum_id, (threads, replies))?;
            }
        }
    }
    Ok(())
}

/// How many posts a person has shown outside the forums `hidden`: (opening posts, replies).
/// One row per forum they wrote in, by the primary key.
pub fn of_author(conn: &mut Conn<'_>, author_id: i64, hidden: &[i64]) -> QueryResult<(i64, i64)> {
    let rows: Vec<(i64, i64, i64)> = dispatch!(conn, |c| author_counts::table
        .filter(author_counts::author_id.eq(author_id))
        .select((
            author_counts::forum_id,
            author_counts::threads,
            author_counts::replies,
        ))
        .load(c))?;
    Ok(rows
        .iter()
        .filter(|(forum, _, _)| !hidden.contains(forum))
        .fold((0, 0), |(t, r), (_, threads, replies)| {
            (t + threads, r + replies)
        }))
}

/// Moves the counts of a thread's shown posts from forum `from` to forum `to` (the thread has
/// moved), in key order.
pub fn move_thread(conn: &mut Conn<'_>, thread_id: i64, from: i64, to: i64) -> QueryResult<()> {
    // Every shown post's author and kind, read by `posts_thread_replies` and added up here (a
    // `GROUP BY author_id` would need a temporary tree).
    let shown: Vec<(i64, bool)> = dispatch!(conn, |c| posts::table
        .filter(posts::thread_id.eq(thread_id))
        .filter(posts::deleted_at.is_null())
        .filter(posts::removed_at.is_null())
        .select((posts::author_id, posts::is_opening))
        .load(c))?;
    let mut moved = BTreeMap::<(i64, i64), (i64, i64)>::new();
    for (author, opening) in shown {
        let (threads, replies) = if opening { (1, 0) } else { (0, 1) };
        for (forum, sign) in [(from, -1), (to, 1)] {
            let counts = moved.entry((author, forum)).or_default();
            counts.0 += sign * threads;
            counts.1 += sign * replies;
        }
    }
    for ((author, forum), counts) in moved {
        add(conn, author, forum, counts)?;
    }
    Ok(())
}
