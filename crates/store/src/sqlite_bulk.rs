//! Many rows into one SQLite table through prepared multi-row `INSERT`s,
//! bound and stepped on SQLite's C API. Through sqlx a row costs a message to
//! its worker thread; here rows cost their binds, and a statement of many
//! rows keeps its cursors open from one row to the next, so an index whose
//! new entries sort after the ones before (a table's rowid, an index led by
//! an id that grows) takes each on its last page without a search from the root.
//!
//! Into a table whose references are checked at commit (`DEFERRABLE INITIALLY
//! DEFERRED`), and as `INSERT OR FAIL` when the transaction is rolled back whole
//! on an error, no constraint can abort a statement halfway, and SQLite keeps
//! no statement journal (a copy of every page a statement changes) to undo one.
//!
//! The project's one use of `unsafe`: every call below is on a handle sqlx has
//! locked for us (`LockedSqliteHandle`: its worker makes no calls meanwhile),
//! on statements prepared from that handle and finalized before the lock is
//! released, with values that outlive the step they are bound for (the
//! borrow `'a`) and are unbound before the call that bound them returns.
#![expect(unsafe_code, reason = "SQLite's C API: see above")]

use std::ffi::{CStr, c_int};
use std::ptr::{self, NonNull};

use libsqlite3_sys as ffi;
use sqlx::sqlite::LockedSqliteHandle;

use crate::StoreError;

const UTF8: u8 = ffi::SQLITE_UTF8 as u8;

/// One column's value for a row.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Value::Null, Value::Text)
    }
}

impl<'a> From<Option<&'a [u8]>> for Value<'a> {
    fn from(v: Option<&'a [u8]>) -> Self {
        v.map_or(Value::Null, Value::Blob)
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::Null, Value::Int)
    }
}

fn protocol(told: String) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(told))
}

/// A statement prepared on a locked connection, finalized when dropped.
struct Statement(NonNull<ffi::sqlite3_stmt>);

impl Statement {
    fn prepare(db: NonNull<ffi::sqlite3>, sql: &str) -> Result<Self, StoreError> {
        let mut stmt = ptr::null_mut();
        let len = c_int::try_from(sql.len()).map_err(|_| protocol("statement too long".into()))?;
        // SAFETY: `db` is open and locked for us; `sql` is valid for `len` bytes.
        let rc = unsafe { ffi::sqlite3_prepare_v2(db.as_ptr(), sql.as_ptr().cast(), len, &mut stmt, ptr::null_mut()) };
        NonNull::new(stmt).filter(|_| rc == ffi::SQLITE_OK).map(Self).ok_or_else(|| failure(db, rc))
    }

    fn parameters(&self) -> usize {
        // SAFETY: the statement is prepared on the locked handle.
        usize::try_from(unsafe { ffi::sqlite3_bind_parameter_count(self.0.as_ptr()) }).unwrap_or(0)
    }

    /// Binds `values` to the parameters in order, steps once and unbinds them.
    fn run(&self, db: NonNull<ffi::sqlite3>, values: &[Value<'_>]) -> Result<(), StoreError> {
        let stmt = self.0.as_ptr();
        let mut outcome = Ok(());
        for (i, value) in (1..).zip(values) {
            // SAFETY: `stmt` is prepared on the locked handle. Text and blobs are
            // bound in place (SQLITE_STATIC): `values` outlives this call, and
            // the bindings are cleared below before it returns.
            let rc = unsafe {
                match *value {
                    Value::Null => ffi::sqlite3_bind_null(stmt, i),
                    Value::Int(v) => ffi::sqlite3_bind_int64(stmt, i, v),
                    Value::Text(v) => {
                        ffi::sqlite3_bind_text64(stmt, i, v.as_ptr().cast(), v.len() as u64, ffi::SQLITE_STATIC(), UTF8)
                    }
                    Value::Blob(v) => {
                        ffi::sqlite3_bind_blob64(stmt, i, v.as_ptr().cast(), v.len() as u64, ffi::SQLITE_STATIC())
                    }
                }
            };
            if rc != ffi::SQLITE_OK {
                outcome = Err(failure(db, rc));
                break;
            }
        }
        if outcome.is_ok() {
            // SAFETY: the statement is prepared on the locked handle, its values bound above.
            let rc = unsafe { ffi::sqlite3_step(stmt) };
            if rc != ffi::SQLITE_DONE {
                outcome = Err(failure(db, rc));
            }
        }
        // SAFETY: as above; after this the statement holds no pointer into `values`.
        unsafe {
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
        }
        outcome
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: prepared on the handle, which is still locked (the borrow of `Insert`).
        unsafe { ffi::sqlite3_finalize(self.0.as_ptr()) };
    }
}

/// Rows for one table, written `rows` at a time by one prepared statement
/// (the last few by one of their own in [`Insert::finish`]).
#[must_use = "rows are written by `finish`"]
pub(crate) struct Insert<'h, 'a> {
    db: NonNull<ffi::sqlite3>,
    /// `INSERT … INTO table (columns) `
    head: String,
    columns: usize,
    full: Statement,
    /// Values a full statement takes: its rows times `columns`.
    per_statement: usize,
    /// Values of the rows not yet written, a row after another.
    pending: Vec<Value<'a>>,
    _handle: std::marker::PhantomData<&'h mut LockedSqliteHandle<'h>>,
}

/// `head` followed by `rows` rows of `columns` parameters.
fn values_sql(head: &str, columns: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    format!("{head}VALUES {}", vec![row; rows].join(", "))
}

impl<'h, 'a> Insert<'h, 'a> {
    /// Prepares `head`, an `INSERT … INTO table (a, b, …) ` without its values,
    /// for `rows` rows a statement.
    pub(crate) fn prepare(handle: &'h mut LockedSqliteHandle<'_>, head: &str, rows: usize) -> Result<Self, StoreError> {
        let (db, rows) = (handle.as_raw_handle(), rows.max(1));
        let columns = head
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map_or(0, |(list, _)| list.split(',').count());
        let full = Statement::prepare(db, &values_sql(head, columns, rows))?;
        let per_statement = columns * rows;
        if columns == 0 || full.parameters() != per_statement {
            return Err(protocol(format!("{head}: {} parameters for {columns} columns", full.parameters())));
        }
        let pending = Vec::with_capacity(per_statement);
        Ok(Self { db, head: head.to_owned(), columns, full, per_statement, pending, _handle: std::marker::PhantomData })
    }

    /// Adds one row, a value for each column; written when a statement's rows are in.
    pub(crate) fn row(&mut self, values: &[Value<'a>]) -> Result<(), StoreError> {
        if values.len() != self.columns {
            return Err(protocol(format!("{} values for a row of {} columns", values.len(), self.columns)));
        }
        self.pending.extend_from_slice(values);
        if self.pending.len() < self.per_statement {
            return Ok(());
        }
        // Let go of the rows whether they went in or not: none is tried twice.
        let written = self.full.run(self.db, &self.pending);
        self.pending.clear();
        written
    }

    /// Writes the rows still pending.
    pub(crate) fn finish(self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = self.pending.len() / self.columns;
        Statement::prepare(self.db, &values_sql(&self.head, self.columns, rows))?.run(self.db, &self.pending)
    }
}

/// The connection's last error, as the store tells it.
fn failure(db: NonNull<ffi::sqlite3>, rc: c_int) -> StoreError {
    // SAFETY: `db` is open and locked; SQLite returns a NUL-terminated message.
    let (code, message) = unsafe {
        let message = ffi::sqlite3_errmsg(db.as_ptr());
        let text =
            if message.is_null() { String::new() } else { CStr::from_ptr(message).to_string_lossy().into_owned() };
        (ffi::sqlite3_extended_errcode(db.as_ptr()), text)
    };
    match code {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => StoreError::Duplicate(message),
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::MissingReference(message),
        _ => StoreError::Database(sqlx::Error::Protocol(format!("SQLite error {rc}/{code}: {message}"))),
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, SqliteConnection};

    use super::*;

    async fn table() -> SqliteConnection {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        sqlx::raw_sql(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE parent (id INTEGER PRIMARY KEY);
             INSERT INTO parent VALUES (7);
             CREATE TABLE t (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id),
                             name TEXT UNIQUE, data BLOB, note TEXT)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn
    }

    const HEAD: &str = "INSERT OR FAIL INTO t (parent, name, data, note) ";

    #[tokio::test]
    async fn rows_go_in_as_bound_in_their_order_across_full_statements_and_the_rest() {
        let mut conn = table().await;
        let names: Vec<String> = (0..5).map(|i| format!("户{i}")).collect();
        {
            let mut handle = conn.lock_handle().await.unwrap();
            let mut insert = Insert::prepare(&mut handle, HEAD, 2).unwrap();
            insert.row(&[Value::Int(7), Value::Text(&names[0]), Value::Blob(&[0, 1, 2]), Value::Null]).unwrap();
            for name in &names[1..] {
                insert.row(&[None::<i64>.into(), Value::Text(name), None::<&[u8]>.into(), Some("x").into()]).unwrap();
            }
            insert.finish().unwrap();
        }
        type Row = (i64, Option<i64>, String, Option<Vec<u8>>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as("SELECT id, parent, name, data, note FROM t ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0], (1, Some(7), "户0".to_owned(), Some(vec![0, 1, 2]), None));
        for (i, row) in rows.iter().enumerate().skip(1) {
            assert_eq!(*row, (i as i64 + 1, None, names[i].clone(), None, Some("x".to_owned())));
        }
    }

    #[tokio::test]
    async fn a_broken_constraint_is_told_as_the_store_tells_it() {
        let mut conn = table().await;
        let mut handle = conn.lock_handle().await.unwrap();
        let twice = Insert::prepare(&mut handle, HEAD, 2).and_then(|mut insert| {
            insert.row(&[Value::Int(7), Value::Text("甲"), Value::Null, Value::Null])?;
            insert.row(&[Value::Int(7), Value::Text("甲"), Value::Null, Value::Null])?;
            insert.finish()
        });
        assert!(matches!(twice, Err(StoreError::Duplicate(ref m)) if m.contains("t.name")), "{twice:?}");
        let orphan = Insert::prepare(&mut handle, HEAD, 2).and_then(|mut insert| {
            insert.row(&[Value::Int(8), Value::Text("丙"), Value::Null, Value::Null])?;
            insert.finish()
        });
        assert!(matches!(orphan, Err(StoreError::MissingReference(_))), "{orphan:?}");
        let mut insert = Insert::prepare(&mut handle, HEAD, 2).unwrap();
        assert!(insert.row(&[Value::Int(7), Value::Text("丁")]).is_err(), "a value short");
        drop(insert);
        assert!(Insert::prepare(&mut handle, "INSERT INTO nowhere (a) ", 2).is_err());
        assert!(Insert::prepare(&mut handle, "INSERT INTO t DEFAULT VALUES ", 2).is_err(), "no columns named");
    }
}
