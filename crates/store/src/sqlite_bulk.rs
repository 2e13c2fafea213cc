//! Many rows into one SQLite table through one prepared single-row `INSERT`,
//! bound and stepped on SQLite's C API: the way `sqlite3 .import` loads a
//! file. Through sqlx a row costs a message to its worker thread, and
//! multi-row `VALUES` cost SQLite a statement journal and a parse per chunk;
//! here a row costs its binds and one step.
//!
//! The project's one use of `unsafe`: every call below is on a handle sqlx has
//! locked for us (`LockedSqliteHandle`: its worker makes no calls meanwhile),
//! on a statement prepared from that handle and finalized before the lock is
//! released, with values that outlive the step they are bound for and are
//! unbound before the call that bound them returns.
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

/// A prepared `INSERT` on a locked connection, finalized when dropped.
pub(crate) struct Insert<'h> {
    db: NonNull<ffi::sqlite3>,
    stmt: NonNull<ffi::sqlite3_stmt>,
    columns: usize,
    _handle: std::marker::PhantomData<&'h mut LockedSqliteHandle<'h>>,
}

impl<'h> Insert<'h> {
    /// Prepares `sql`, an `INSERT … VALUES (?1, …, ?n)`.
    pub(crate) fn prepare(handle: &'h mut LockedSqliteHandle<'_>, sql: &str) -> Result<Self, StoreError> {
        let db = handle.as_raw_handle();
        let mut stmt = ptr::null_mut();
        let len = c_int::try_from(sql.len()).map_err(|_| StoreError::Corrupt("statement too long".into()))?;
        // SAFETY: `db` is open and locked for us; `sql` is valid for `len` bytes.
        let rc = unsafe { ffi::sqlite3_prepare_v2(db.as_ptr(), sql.as_ptr().cast(), len, &mut stmt, ptr::null_mut()) };
        let stmt = NonNull::new(stmt).filter(|_| rc == ffi::SQLITE_OK).ok_or_else(|| failure(db, rc))?;
        // SAFETY: `stmt` was just prepared on the locked handle.
        let columns = usize::try_from(unsafe { ffi::sqlite3_bind_parameter_count(stmt.as_ptr()) }).unwrap_or(0);
        Ok(Self { db, stmt, columns, _handle: std::marker::PhantomData })
    }

    /// Inserts one row, a value for each parameter; its rowid.
    pub(crate) fn row(&mut self, values: &[Value<'_>]) -> Result<i64, StoreError> {
        if values.len() != self.columns {
            let told = format!("{} values for a statement of {} parameters", values.len(), self.columns);
            return Err(StoreError::Database(sqlx::Error::Protocol(told)));
        }
        let stmt = self.stmt.as_ptr();
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
                let error = failure(self.db, rc);
                self.release();
                return Err(error);
            }
        }
        // SAFETY: the statement is prepared on the locked handle, its values bound above.
        let rc = unsafe { ffi::sqlite3_step(stmt) };
        let outcome = if rc == ffi::SQLITE_DONE {
            // SAFETY: the handle is open and locked.
            Ok(unsafe { ffi::sqlite3_last_insert_rowid(self.db.as_ptr()) })
        } else {
            Err(failure(self.db, rc))
        };
        self.release();
        outcome
    }

    /// Readies the statement for the next row and lets go of this row's values.
    fn release(&mut self) {
        // SAFETY: the statement is prepared on the locked handle.
        unsafe {
            ffi::sqlite3_reset(self.stmt.as_ptr());
            ffi::sqlite3_clear_bindings(self.stmt.as_ptr());
        }
    }
}

impl Drop for Insert<'_> {
    fn drop(&mut self) {
        // SAFETY: prepared on the handle, which is still locked (the borrow).
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
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

    #[tokio::test]
    async fn rows_go_in_as_bound_and_a_broken_constraint_is_told_as_the_store_tells_it() {
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
        let sql = "INSERT INTO t (parent, name, data, note) VALUES (?1, ?2, ?3, ?4)";
        {
            let mut handle = conn.lock_handle().await.unwrap();
            let mut insert = Insert::prepare(&mut handle, sql).unwrap();
            let first = insert.row(&[Value::Int(7), Value::Text("甲"), Value::Blob(&[0, 1, 2]), Value::Null]).unwrap();
            let second =
                insert.row(&[None::<i64>.into(), Value::Text("乙"), None::<&[u8]>.into(), Some("x").into()]).unwrap();
            assert_eq!(second, first + 1);
            let twice = insert.row(&[Value::Int(7), Value::Text("甲"), Value::Null, Value::Null]);
            assert!(matches!(twice, Err(StoreError::Duplicate(ref m)) if m.contains("t.name")), "{twice:?}");
            assert!(insert.row(&[Value::Int(7), Value::Text("丁")]).is_err(), "a value short");
            let orphan = insert.row(&[Value::Int(8), Value::Text("丙"), Value::Null, Value::Null]);
            assert!(matches!(orphan, Err(StoreError::MissingReference(_))), "{orphan:?}");
            drop(insert);
            assert!(Insert::prepare(&mut handle, "INSERT INTO nowhere VALUES (?1)").is_err());
        }
        type Row = (Option<i64>, String, Option<Vec<u8>>, Option<String>);
        let rows: Vec<Row> =
            sqlx::query_as("SELECT parent, name, data, note FROM t ORDER BY id").fetch_all(&mut conn).await.unwrap();
        assert_eq!(
            rows,
            [
                (Some(7), "甲".to_owned(), Some(vec![0, 1, 2]), None),
                (None, "乙".to_owned(), None, Some("x".to_owned()))
            ]
        );
    }
}
