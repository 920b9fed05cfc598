//! The rest of an installation for `herald db copy`: channels, subscriptions, the outbox
//! (posts owed and sent, digests, notices), the console's post record and the
//! installation id, moved table by table as JSON so that one statement per backend
//! serves every table. Columns are the ones both sides have (PostgreSQL's generated
//! columns left out); booleans cross as 0/1 or true/false, which each side reads.

use sqlx::AssertSqlSafe;

use super::{Db, Store, StoreError, on_db};

/// The tables, parents before children, and whether they are paged by an integer `id`
/// (the others are small and go in one piece).
pub(super) const TABLES: &[(&str, bool)] = &[
    ("channels", true),
    ("subscriptions", true),
    ("deliveries", true),
    ("digests", true),
    ("notices", true),
    ("console_posts", false),
];

/// Rows read and written per statement.
const BATCH: i64 = 1000;

/// One table's copy: rows written, and the row counts of both sides after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    pub table: &'static str,
    pub copied: u64,
    pub source: i64,
    pub target: i64,
}

/// Copies each of [`TABLES`] from `from` into `to`, rows the target has (same key or
/// unique columns) left as they are, then the installation id, which is part of every
/// idempotency key: owed posts keep theirs, new ones continue the installation's.
pub(super) async fn copy_tables(from: &Store, to: &Store) -> Result<Vec<TableCopy>, StoreError> {
    let mut done = Vec::new();
    for &(table, paged) in TABLES {
        let theirs = to.columns(table).await?;
        let columns: Vec<String> =
            from.columns(table).await?.into_iter().filter(|c| theirs.contains(c)).collect();
        let mut copied = 0;
        let mut after = i64::MIN;
        loop {
            let rows = from.rows_as_json(table, &columns, paged.then_some(after)).await?;
            // The database wrote it; one that cannot be read is an error, not an end.
            let batch: Vec<serde_json::Value> =
                serde_json::from_str(&rows).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            if batch.is_empty() {
                break;
            }
            copied += to.insert_json_rows(table, &columns, &rows).await?;
            match batch.last().and_then(|r| r["id"].as_i64()) {
                Some(last) if paged => after = last,
                _ => break,
            }
        }
        let (source, target) = (from.count_rows(table).await?, to.count_rows(table).await?);
        done.push(TableCopy { table, copied, source, target });
    }
    let id = from.installation_id().await?;
    on_db!(to, writer, |ex, sql| {
        sqlx::query(sql("UPDATE installation SET id = ?")).bind(&id).execute(ex).await?;
    });
    if let Db::Postgres(pg) = &to.db {
        for &(table, paged) in TABLES {
            if paged {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                   coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                );
                sqlx::query(AssertSqlSafe(sql)).execute(pg).await?;
            }
        }
    }
    Ok(done)
}

impl Store {
    /// A table's columns that can be written (PostgreSQL's generated ones are not).
    async fn columns(&self, table: &str) -> Result<Vec<String>, StoreError> {
        Ok(match &self.db {
            Db::Sqlite(db) => {
                sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                    .bind(table)
                    .fetch_all(&db.pool)
                    .await?
            }
            Db::Postgres(pg) => {
                sqlx::query_scalar(
                    "SELECT column_name::text FROM information_schema.columns
                     WHERE table_schema = current_schema() AND table_name = $1
                       AND is_generated = 'NEVER'
                     ORDER BY ordinal_position",
                )
                .bind(table)
                .fetch_all(pg)
                .await?
            }
        })
    }

    /// Up to [`BATCH`] rows of `table` with ids above `after` (or all rows, for a table
    /// without ids), in id order, as a JSON array of objects.
    async fn rows_as_json(
        &self,
        table: &str,
        columns: &[String],
        after: Option<i64>,
    ) -> Result<String, StoreError> {
        let list = columns.join(", ");
        let page = match after {
            Some(_) => "WHERE id > ?1 ORDER BY id LIMIT ?2",
            None => "",
        };
        let sql = match &self.db {
            Db::Sqlite(_) => {
                let fields: Vec<String> = columns.iter().map(|c| format!("'{c}', {c}")).collect();
                format!(
                    "SELECT coalesce(json_group_array(json_object({})), '[]')
                     FROM (SELECT {list} FROM {table} {page})",
                    fields.join(", ")
                )
            }
            Db::Postgres(_) => format!(
                "SELECT coalesce(json_agg(r), '[]')::text FROM (SELECT {list} FROM {table} {page}) r"
            ),
        };
        Ok(on_db!(self, pool, |ex, sql_of| {
            let mut q = sqlx::query_scalar(sql_of(&sql));
            if let Some(after) = after {
                q = q.bind(after).bind(BATCH);
            }
            q.fetch_one(ex).await?
        }))
    }

    /// Writes a JSON array of rows (as [`Store::rows_as_json`] reads them) into `table`,
    /// skipping rows that collide with stored ones. Returns how many were written.
    async fn insert_json_rows(
        &self,
        table: &str,
        columns: &[String],
        rows: &str,
    ) -> Result<u64, StoreError> {
        let list = columns.join(", ");
        Ok(match &self.db {
            Db::Sqlite(db) => {
                let values: Vec<String> =
                    columns.iter().map(|c| format!("value ->> '$.{c}'")).collect();
                // `WHERE true`: SQLite needs it to read ON CONFLICT after a SELECT.
                let sql = format!(
                    "INSERT INTO {table} ({list}) SELECT {} FROM json_each(?) WHERE true
                     ON CONFLICT DO NOTHING",
                    values.join(", ")
                );
                sqlx::query(AssertSqlSafe(sql))
                    .bind(rows)
                    .execute(&db.writer)
                    .await?
                    .rows_affected()
            }
            Db::Postgres(pg) => {
                let sql = format!(
                    "INSERT INTO {table} ({list})
                     SELECT {list} FROM json_populate_recordset(NULL::{table}, $1::json)
                     ON CONFLICT DO NOTHING"
                );
                sqlx::query(AssertSqlSafe(sql)).bind(rows).execute(pg).await?.rows_affected()
            }
        })
    }

    async fn count_rows(&self, table: &str) -> Result<i64, StoreError> {
        let sql = format!("SELECT count(*) FROM {table}");
        Ok(on_db!(self, pool, |ex, sql_of| {
            sqlx::query_scalar(sql_of(&sql)).fetch_one(ex).await?
        }))
    }
}
