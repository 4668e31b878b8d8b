//! One database connection, SQLite or PostgreSQL, behind one small API so every query
//! in the store is written once.
//!
//! SQL is written with PostgreSQL's numbered placeholders (`$1`, `$2`, …) and in the
//! common subset of both dialects (`RETURNING`, `ON CONFLICT`, `CAST(… AS TEXT)`,
//! `COALESCE`); for SQLite the placeholders are rewritten to `?1`, `?2`. Integer columns
//! are `BIGINT` in PostgreSQL so both read back as `i64`. Rows are read into owned
//! [`Row`]s (the store's result sets are small), typed with [`Row::get`].

use super::StoreError;

/// Which SQL engine serves the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A query parameter both drivers can bind (`i64`, `&str`, `String`, `Option` of them).
pub trait Param {
    fn sqlite(&self) -> &dyn rusqlite::ToSql;
    fn postgres(&self) -> &(dyn postgres::types::ToSql + Sync);
}

impl<T: rusqlite::ToSql + postgres::types::ToSql + Sync> Param for T {
    fn sqlite(&self) -> &dyn rusqlite::ToSql {
        self
    }
    fn postgres(&self) -> &(dyn postgres::types::ToSql + Sync) {
        self
    }
}

/// One column value of a [`Row`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

/// One result row, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(Vec<Value>);

/// A Rust type a column converts to.
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl Row {
    /// Column `i` as `T`; [`StoreError::Corrupt`] if it is missing or of another type.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T, StoreError> {
        let v = self
            .0
            .get(i)
            .ok_or_else(|| StoreError::Corrupt(format!("no column {i}")))?;
        T::from_value(v).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "column {i} is {v:?}, not {}",
                std::any::type_name::<T>()
            ))
        })
    }
}

enum Conn<'a> {
    Sqlite(&'a mut rusqlite::Connection),
    Postgres(&'a mut postgres::Client),
}

/// A borrowed connection; what [`super::Store::run`] hands to database work.
pub struct Db<'a> {
    conn: Conn<'a>,
}

impl<'a> Db<'a> {
    pub(super) fn sqlite(conn: &'a mut rusqlite::Connection) -> Self {
        Self {
            conn: Conn::Sqlite(conn),
        }
    }

    pub(super) fn postgres(client: &'a mut postgres::Client) -> Self {
        Self {
            conn: Conn::Postgres(client),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self.conn {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Run one statement; the number of rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<u64, StoreError> {
        match &mut self.conn {
            Conn::Sqlite(c) => {
                let p: Vec<&dyn rusqlite::ToSql> = params.iter().map(|p| p.sqlite()).collect();
                let mut stmt = c.prepare_cached(&sqlite_placeholders(sql))?;
                Ok(stmt.execute(p.as_slice())? as u64)
            }
            Conn::Postgres(c) => {
                let p: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p.postgres()).collect();
                Ok(c.execute(sql, &p)?)
            }
        }
    }

    /// Run a query; every row it returns.
    pub fn query(&mut self, sql: &str, params: &[&dyn Param]) -> Result<Vec<Row>, StoreError> {
        match &mut self.conn {
            Conn::Sqlite(c) => {
                let p: Vec<&dyn rusqlite::ToSql> = params.iter().map(|p| p.sqlite()).collect();
                let mut stmt = c.prepare_cached(&sqlite_placeholders(sql))?;
                let n = stmt.column_count();
                let mut rows = stmt.query(p.as_slice())?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut values = Vec::with_capacity(n);
                    for i in 0..n {
                        values.push(sqlite_value(r.get_ref(i)?));
                    }
                    out.push(Row(values));
                }
                Ok(out)
            }
            Conn::Postgres(c) => {
                let p: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p.postgres()).collect();
                c.query(sql, &p)?.iter().map(postgres_row).collect()
            }
        }
    }

    /// The first row of a query, if any.
    pub fn query_opt(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row of a query that must return one.
    pub fn query_one(&mut self, sql: &str, params: &[&dyn Param]) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StoreError::NotFound(format!("no row from: {}", first_line(sql))))
    }

    /// Run several statements without parameters (migrations, resets).
    pub fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        match &mut self.conn {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Postgres(c) => Ok(c.batch_execute(sql)?),
        }
    }

    /// Run `f` in one transaction: committed if it returns `Ok`, rolled back otherwise.
    /// On SQLite the write lock is taken at the start (`BEGIN IMMEDIATE`), so a
    /// read-then-write (a refund's check and insert) is never interleaved with another
    /// process's; on PostgreSQL such reads lock their rows (`FOR UPDATE`, see
    /// [`Db::for_update`]).
    pub fn transaction<R>(
        &mut self,
        f: impl FnOnce(&mut Db<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let begin = match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        };
        self.batch(begin)?;
        // A panic inside `f` must not leave the transaction open on a connection that
        // goes back to the pool (or stays behind the SQLite mutex).
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self)));
        let result = match outcome {
            Ok(Ok(r)) => match self.batch("COMMIT") {
                Ok(()) => return Ok(r),
                Err(e) => Err(e),
            },
            Ok(Err(e)) => Err(e),
            Err(panic) => {
                self.rollback();
                std::panic::resume_unwind(panic);
            }
        };
        self.rollback();
        result
    }

    fn rollback(&mut self) {
        if let Err(e) = self.batch("ROLLBACK") {
            tracing::debug!(error = %e, "rollback (no transaction left open)");
        }
    }

    /// ` FOR UPDATE` on PostgreSQL (rows read in a transaction stay ours until it
    /// ends); empty on SQLite, whose transactions here already hold the write lock.
    pub fn for_update(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

fn first_line(sql: &str) -> &str {
    sql.trim().lines().next().unwrap_or_default()
}

fn sqlite_value(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    }
}

fn postgres_row(r: &postgres::Row) -> Result<Row, StoreError> {
    use postgres::types::Type;
    let mut values = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let t = col.type_();
        let v = if *t == Type::INT8 {
            r.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *t == Type::INT4 {
            r.try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *t == Type::INT2 {
            r.try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *t == Type::BOOL {
            r.try_get::<_, Option<bool>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *t == Type::FLOAT8 {
            r.try_get::<_, Option<f64>>(i)?.map(Value::Real)
        } else if *t == Type::FLOAT4 {
            r.try_get::<_, Option<f32>>(i)?
                .map(|v| Value::Real(v.into()))
        } else if [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(t) {
            r.try_get::<_, Option<String>>(i)?.map(Value::Text)
        } else if *t == Type::BYTEA {
            r.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Bytes)
        } else {
            return Err(StoreError::Corrupt(format!(
                "column {} has type {t}, which the store does not read",
                col.name()
            )));
        };
        values.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

/// `$1` → `?1` outside quoted strings and identifiers (SQLite reads `$1` as a named
/// parameter, numbered by first appearance rather than by its digits).
fn sqlite_placeholders(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.contains('$') {
        return sql.into();
    }
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) => {
                out.push('?');
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_outside_strings_only() {
        assert_eq!(
            sqlite_placeholders("SELECT $1, '$2', \"$3\", $12 WHERE a = 'it''s $4'"),
            "SELECT ?1, '$2', \"$3\", ?12 WHERE a = 'it''s $4'"
        );
        assert_eq!(sqlite_placeholders("SELECT 1"), "SELECT 1");
    }

    #[test]
    fn rows_read_typed_and_refuse_the_wrong_type() {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        let mut db = Db::sqlite(&mut c);
        let row = db.query_one("SELECT $2, $1, NULL", &[&"a", &7i64]).unwrap();
        assert_eq!(row.get::<i64>(0).unwrap(), 7);
        assert_eq!(row.get::<String>(1).unwrap(), "a");
        assert_eq!(row.get::<Option<String>>(2).unwrap(), None);
        assert!(matches!(row.get::<i64>(1), Err(StoreError::Corrupt(_))));
        assert!(matches!(row.get::<i64>(9), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn a_failed_transaction_leaves_nothing_behind() {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        let mut db = Db::sqlite(&mut c);
        db.batch("CREATE TABLE t (x INTEGER)").unwrap();
        let err = db
            .transaction(|tx| {
                tx.execute("INSERT INTO t VALUES ($1)", &[&1i64])?;
                Err::<(), _>(StoreError::NotFound("on purpose".into()))
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)));
        let n: i64 = db
            .query_one("SELECT COUNT(*) FROM t", &[])
            .unwrap()
            .get(0)
            .unwrap();
        assert_eq!(n, 0);
        db.transaction(|tx| tx.execute("INSERT INTO t VALUES ($1)", &[&2i64]))
            .unwrap();
        let n: i64 = db
            .query_one("SELECT COUNT(*) FROM t", &[])
            .unwrap()
            .get(0)
            .unwrap();
        assert_eq!(n, 1);
    }
}
