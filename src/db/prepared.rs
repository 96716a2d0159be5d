//! Statements that stay prepared (see "Statements stay prepared" in the `db` module): SQL
//! written by hand that is kept prepared like the query builder's ([`prepared_sql`]), lists of
//! ids bound as one value ([`Ids`]), and the constant `FALSE` ([`sql_false`]).

use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Array, BigInt, SqlType};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;

/// `FALSE` written into a statement's SQL, for comparing the flags partial indexes test (see
/// the module's documentation). An equality with a constant, so the planner can still use a
/// column of an index after it (`posts_thread_replies` on thread, `is_opening`, date).
///
/// Unlike `diesel::dsl::sql("FALSE")` (a literal diesel cannot know the text of, so a statement
/// holding one is parsed and planned on every run), it leaves its statement cacheable.
pub fn sql_false() -> SqlFalse {
    SqlFalse
}

/// The SQL constant `FALSE` (see [`sql_false`]).
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId, diesel::expression::ValidGrouping)]
pub struct SqlFalse;

impl diesel::expression::Expression for SqlFalse {
    type SqlType = diesel::sql_types::Bool;
}

impl<QS> diesel::expression::AppearsOnTable<QS> for SqlFalse {}

impl<QS> diesel::expression::SelectableExpression<QS> for SqlFalse {}

impl<DB: Backend> QueryFragment<DB> for SqlFalse {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("FALSE");
        Ok(())
    }
}

/// A statement written in SQL, for what the query builder cannot write or would not keep
/// prepared, with its values bound by [`PreparedSql::bind`] in the order of their `$1`, `$2`…
/// (on SQLite too: each is sent as the backend's own placeholder, a `$n` written twice as two).
/// Every `$` in the text starts a placeholder, so a literal `$` belongs in a bound value.
///
/// Diesel prepares a statement once per connection and reuses it only when it knows the text
/// cannot change: never for `sql_query` (its text is any `String`), an `UPDATE`, an
/// `ON CONFLICT … DO UPDATE`, or a literal from `diesel::dsl::sql`. Those are parsed and
/// planned on every run, which on PostgreSQL cost more than running them did in the hot writes
/// (each reply from elsewhere ran four). The text here is `'static`, so the statement is kept
/// prepared under its text like any other.
///
/// A list of ids is bound as one value ([`Ids`], SQL type [`IdList`]) and matched as
/// `column = ANY($n)`, which SQLite is sent as `column IN (SELECT value FROM json_each(?))`.
pub fn prepared_sql(sql: &'static str) -> PreparedSql<NoBinds> {
    PreparedSql {
        sql,
        binds: NoBinds,
    }
}

/// See [`prepared_sql`].
#[derive(Debug, Clone, Copy)]
pub struct PreparedSql<B> {
    sql: &'static str,
    binds: B,
}

/// No value bound yet (see [`prepared_sql`]).
#[derive(Debug, Clone, Copy)]
pub struct NoBinds;

/// A value bound to a [`PreparedSql`]'s next `$n`, after those of `P`.
#[derive(Debug, Clone, Copy)]
pub struct Bound<P, V, ST> {
    before: P,
    value: V,
    sql_type: std::marker::PhantomData<ST>,
}

impl<B> PreparedSql<B> {
    /// Binds the next `$n` to `value`, of SQL type `ST`.
    pub fn bind<ST, V>(self, value: V) -> PreparedSql<Bound<B, V, ST>> {
        PreparedSql {
            sql: self.sql,
            binds: Bound {
                before: self.binds,
                value,
                sql_type: std::marker::PhantomData,
            },
        }
    }
}

/// The values bound to a [`PreparedSql`], pushed where its text has their `$n`.
pub trait PushBinds<DB: Backend> {
    /// How many.
    const COUNT: usize;
    /// Pushes the value of `$n`.
    fn push<'b>(&'b self, n: usize, out: AstPass<'_, 'b, DB>) -> QueryResult<()>;
}

impl<DB: Backend> PushBinds<DB> for NoBinds {
    const COUNT: usize = 0;
    fn push<'b>(&'b self, n: usize, _out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        Err(diesel::result::Error::QueryBuilderError(
            format!("no value is bound to ${n}").into(),
        ))
    }
}

impl<DB, P, V, ST> PushBinds<DB> for Bound<P, V, ST>
where
    DB: Backend + diesel::sql_types::HasSqlType<ST>,
    P: PushBinds<DB>,
    V: diesel::serialize::ToSql<ST, DB>,
{
    const COUNT: usize = P::COUNT + 1;
    fn push<'b>(&'b self, n: usize, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if n == Self::COUNT {
            out.push_bind_param::<ST, V>(&self.value)
        } else {
            self.before.push(n, out)
        }
    }
}

impl<B> diesel::query_builder::QueryId for PreparedSql<B> {
    type QueryId = ();
    // Kept prepared under its text (`'static`), not under a type.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<B> diesel::query_builder::Query for PreparedSql<B> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<B, C> diesel::RunQueryDsl<C> for PreparedSql<B> {}

impl<DB, B> QueryFragment<DB> for PreparedSql<B>
where
    DB: Backend + ListSyntax,
    B: PushBinds<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut rest = self.sql;
        while let Some(at) = rest.find('$') {
            let digits = rest[at + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len() - at - 1);
            let n: usize = rest[at + 1..at + 1 + digits].parse().map_err(|_| {
                diesel::result::Error::QueryBuilderError(
                    format!("a `$` without a number in {:?}", self.sql).into(),
                )
            })?;
            let after = &rest[at + 1 + digits..];
            match (rest[..at].strip_suffix(ANY), after.strip_prefix(')')) {
                // A list: `= ANY($n)` in the backend's own words.
                (Some(before), Some(after)) => {
                    out.push_sql(before);
                    out.push_sql(DB::LIST_OPEN);
                    self.binds.push(n, out.reborrow())?;
                    out.push_sql(DB::LIST_CLOSE);
                    rest = after;
                }
                _ => {
                    out.push_sql(&rest[..at]);
                    self.binds.push(n, out.reborrow())?;
                    rest = after;
                }
            }
        }
        out.push_sql(rest);
        Ok(())
    }
}

/// How a [`PreparedSql`] text matches a list of ids.
const ANY: &str = "= ANY(";

/// How each backend matches a value against a list bound as one value ([`Ids`]).
pub trait ListSyntax {
    /// Written before the list's placeholder.
    const LIST_OPEN: &'static str;
    /// Written after it.
    const LIST_CLOSE: &'static str;
}

impl ListSyntax for Pg {
    const LIST_OPEN: &'static str = "= ANY(";
    const LIST_CLOSE: &'static str = ")";
}

impl ListSyntax for Sqlite {
    const LIST_OPEN: &'static str = "IN (SELECT value FROM json_each(";
    const LIST_CLOSE: &'static str = "))";
}

/// The SQL type of [`Ids`]: an array of `BIGINT` on PostgreSQL, a JSON array on SQLite.
#[derive(Debug, Clone, Copy, Default, QueryId, SqlType)]
#[diesel(postgres_type(oid = 1016, array_oid = 0))]
#[diesel(sqlite_type(name = "Text"))]
pub struct IdList;

/// Ids bound as one value, matched by `= ANY($n)` in a [`PreparedSql`]: however many there
/// are, the statement's text stays the same, so it stays prepared (diesel's `eq_any` writes one
/// placeholder per id on SQLite).
#[derive(Debug, Clone, Copy)]
pub struct Ids<'a>(pub &'a [i64]);

impl ToSql<IdList, Pg> for Ids<'_> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <[i64] as ToSql<Array<BigInt>, Pg>>::to_sql(self.0, out)
    }
}

impl ToSql<IdList, Sqlite> for Ids<'_> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        let mut json = String::with_capacity(self.0.len() * 8 + 2);
        json.push('[');
        for (i, id) in self.0.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&id.to_string());
        }
        json.push(']');
        out.set_value(json);
        Ok(IsNull::No)
    }
}

/// `column = ANY(ids)` for the query builder, with the ids bound as one value ([`Ids`]): unlike
/// `eq_any`, whose text on SQLite has one placeholder per id, it stays prepared however many
/// ids there are.
pub fn any_id<C>(column: C, ids: &[i64]) -> AnyId<'_, C> {
    AnyId {
        column,
        ids: Ids(ids),
    }
}

/// See [`any_id`].
#[derive(Debug, Clone, Copy)]
pub struct AnyId<'a, C> {
    column: C,
    ids: Ids<'a>,
}

impl<C: QueryId> QueryId for AnyId<'_, C> {
    type QueryId = AnyId<'static, C::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = C::HAS_STATIC_QUERY_ID;
}

impl<C> diesel::expression::Expression for AnyId<'_, C>
where
    C: diesel::expression::Expression<SqlType = BigInt>,
{
    type SqlType = diesel::sql_types::Bool;
}

impl<QS, C> diesel::expression::AppearsOnTable<QS> for AnyId<'_, C> where
    C: diesel::expression::AppearsOnTable<QS> + diesel::expression::Expression<SqlType = BigInt>
{
}

impl<QS, C> diesel::expression::SelectableExpression<QS> for AnyId<'_, C> where
    C: diesel::expression::SelectableExpression<QS>
        + diesel::expression::Expression<SqlType = BigInt>
{
}

impl<GB, C> diesel::expression::ValidGrouping<GB> for AnyId<'_, C> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl<DB, C> QueryFragment<DB> for AnyId<'_, C>
where
    DB: Backend + ListSyntax + diesel::sql_types::HasSqlType<IdList>,
    C: QueryFragment<DB>,
    for<'x> Ids<'x>: ToSql<IdList, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" ");
        out.push_sql(DB::LIST_OPEN);
        out.push_bind_param::<IdList, Ids<'_>>(&self.ids)?;
        out.push_sql(DB::LIST_CLOSE);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use diesel::pg::Pg;
    use diesel::sql_types::{BigInt, Text};
    use diesel::sqlite::Sqlite;

    use super::{prepared_sql, IdList, Ids};

    #[test]
    fn placeholders_and_lists_are_written_for_each_backend() {
        let ids = [3, 4];
        let query =
            prepared_sql("SELECT a FROM t WHERE a = $1 AND b = ANY($2) AND c <> $1 AND d = $3")
                .bind::<BigInt, _>(7)
                .bind::<IdList, _>(Ids(&ids))
                .bind::<Text, _>("x");
        let pg = diesel::debug_query::<Pg, _>(&query).to_string();
        assert!(
            pg.starts_with("SELECT a FROM t WHERE a = $1 AND b = ANY($2) AND c <> $3 AND d = $4 -- binds: [7, Ids([3, 4]), 7, \"x\"]"),
            "{pg}"
        );
        let sqlite = diesel::debug_query::<Sqlite, _>(&query).to_string();
        assert!(
            sqlite.starts_with("SELECT a FROM t WHERE a = ? AND b IN (SELECT value FROM json_each(?)) AND c <> ? AND d = ?"),
            "{sqlite}"
        );
    }

    #[test]
    fn a_placeholder_without_a_value_is_an_error() {
        let unbound = prepared_sql("SELECT $1, $2").bind::<BigInt, _>(1);
        let written = diesel::query_builder::QueryFragment::<Sqlite>::to_sql(
            &unbound,
            &mut diesel::sqlite::SqliteQueryBuilder::new(),
            &Sqlite,
        );
        assert!(written.is_err());
        let no_number = prepared_sql("SELECT $x");
        assert!(diesel::query_builder::QueryFragment::<Pg>::to_sql(
            &no_number,
            &mut diesel::pg::PgQueryBuilder::default(),
            &Pg,
        )
        .is_err());
    }
}
