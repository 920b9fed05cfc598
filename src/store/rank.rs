//! `herald_rank`, the FTS5 ranking function search uses instead of the built-in `bm25`.
//!
//! FTS5's `bm25` computes each term's inverse document frequency by reading the term's
//! whole doclist, once per query: over a million articles a common word costs 20–40 ms
//! before a single row is ranked. `herald_rank` scores the same way (Okapi BM25 with
//! column weights) but takes the IDFs as arguments; the caller estimates them from the
//! term's newest matches (see `Store::term_idf`), which costs a bounded read.
//!
//! Called as `herald_rank(articles_fts, w_0, …, w_{c-1}, idf_0, …, idf_{p-1})` with `c`
//! the number of weights (`RANK_COLUMNS`) and one IDF per leading phrase of the MATCH
//! expression; phrases past those (the `feed<id>` tags) do not score. Higher is better.

use std::ffi::{CStr, c_int, c_void};
use std::ptr;

use libsqlite3_sys as ffi;

/// How many leading FTS5 columns carry a weight (title, summary, text).
pub const RANK_COLUMNS: usize = 3;

const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Okapi BM25 for one row: `hits[p][c]` is how often phrase `p` occurs in column `c`.
/// Column weights scale term frequency (as FTS5's `bm25` does), and the row's length is
/// compared with the average over the whole table.
pub fn bm25(
    hits: &[[u32; RANK_COLUMNS]],
    weights: &[f64; RANK_COLUMNS],
    idfs: &[f64],
    row_len: f64,
    avg_len: f64,
) -> f64 {
    let norm = K1 * (1.0 - B + B * row_len / avg_len.max(1.0));
    hits.iter()
        .zip(idfs)
        .map(|(per_col, idf)| {
            let tf: f64 = per_col.iter().zip(weights).map(|(&n, w)| f64::from(n) * w).sum();
            idf * tf * (K1 + 1.0) / (tf + norm)
        })
        .sum()
}

/// BM25's inverse document frequency of a term found in `df` of `n` rows (the "+1"
/// form, so it stays positive for words in most rows).
pub fn idf(df: f64, n: f64) -> f64 {
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln().max(1e-6)
}

/// Registers `herald_rank` on one connection; run for every new pooled connection.
pub async fn register(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is a live connection that `handle` keeps locked for us, so nothing else
    // uses it until the guard drops at the end of this function.
    let rc = unsafe { create_function(db) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Configuration(
            format!("registering the herald_rank search function failed (SQLite code {rc})").into(),
        ))
    }
}

/// SAFETY: `db` must be a valid, open connection not used concurrently.
unsafe fn create_function(db: *mut ffi::sqlite3) -> c_int {
    let api = unsafe { fts5_api(db) };
    if api.is_null() {
        return ffi::SQLITE_ERROR;
    }
    // SAFETY: `api` came from FTS5 itself and lives as long as the connection.
    let Some(create) = (unsafe { (*api).xCreateFunction }) else {
        return ffi::SQLITE_ERROR;
    };
    let name = c"herald_rank";
    // SAFETY: the name is copied by FTS5; the function keeps no user data.
    unsafe { create(api, name.as_ptr(), ptr::null_mut(), Some(herald_rank), None) }
}

/// The connection's `fts5_api`, fetched the documented way: `SELECT fts5(?1)` with a
/// pointer bound under the type name "fts5_api_ptr".
///
/// SAFETY: `db` must be a valid, open connection not used concurrently.
unsafe fn fts5_api(db: *mut ffi::sqlite3) -> *mut ffi::fts5_api {
    let mut api: *mut ffi::fts5_api = ptr::null_mut();
    let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
    let sql = c"SELECT fts5(?1)";
    const TYPE: &CStr = c"fts5_api_ptr";
    // SAFETY: every pointer handed over is valid for the call; `api` outlives the
    // statement, which is finalized before returning.
    unsafe {
        if ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, ptr::null_mut())
            != ffi::SQLITE_OK
        {
            return ptr::null_mut();
        }
        ffi::sqlite3_bind_pointer(
            stmt,
            1,
            (&mut api as *mut *mut ffi::fts5_api).cast::<c_void>(),
            TYPE.as_ptr(),
            None,
        );
        ffi::sqlite3_step(stmt);
        ffi::sqlite3_finalize(stmt);
    }
    api
}

/// The table-wide average row length in tokens, computed once per statement and kept
/// as FTS5 auxiliary data.
///
/// SAFETY: `api` and `fts` are the pointers FTS5 passed to the running function.
unsafe fn average_row_len(api: &ffi::Fts5ExtensionApi, fts: *mut ffi::Fts5Context) -> f64 {
    let (Some(get), Some(set), Some(rows), Some(total)) =
        (api.xGetAuxdata, api.xSetAuxdata, api.xRowCount, api.xColumnTotalSize)
    else {
        return 1.0;
    };
    // SAFETY: auxiliary data of this function is only ever a `Box<f64>` set below.
    unsafe {
        let cached = get(fts, 0).cast::<f64>();
        if !cached.is_null() {
            return *cached;
        }
        let (mut n, mut tokens) = (0i64, 0i64);
        if rows(fts, &mut n) != ffi::SQLITE_OK || total(fts, -1, &mut tokens) != ffi::SQLITE_OK {
            return 1.0;
        }
        let avg = if n > 0 { tokens as f64 / n as f64 } else { 1.0 };
        let boxed = Box::into_raw(Box::new(avg)).cast::<c_void>();
        if set(fts, boxed, Some(free_f64)) != ffi::SQLITE_OK {
            // FTS5 already called `free_f64` on failure.
            return avg;
        }
        avg
    }
}

unsafe extern "C" fn free_f64(p: *mut c_void) {
    // SAFETY: only called by FTS5 on the `Box<f64>` handed to xSetAuxdata.
    drop(unsafe { Box::from_raw(p.cast::<f64>()) });
}

/// The FTS5 callback. It must not unwind (a panic here aborts), so it only does
/// bounds-checked work and reports trouble as an SQL error.
unsafe extern "C" fn herald_rank(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n_val: c_int,
    values: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: FTS5 passes valid pointers for the duration of the call, and `values`
    // holds `n_val` arguments.
    unsafe {
        let api = &*api;
        let args: Vec<f64> =
            (0..n_val.max(0) as usize).map(|i| ffi::sqlite3_value_double(*values.add(i))).collect();
        match row_score(api, fts, &args) {
            Some(score) => ffi::sqlite3_result_double(ctx, score),
            None => ffi::sqlite3_result_error(ctx, c"herald_rank: bad arguments".as_ptr(), -1),
        }
    }
}

/// SAFETY: `api` and `fts` are the pointers FTS5 passed to the running function.
unsafe fn row_score(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    args: &[f64],
) -> Option<f64> {
    let (weights, idfs) = args.split_at_checked(RANK_COLUMNS)?;
    let weights: &[f64; RANK_COLUMNS] = weights.try_into().ok()?;
    let (first, next, col_size) = (api.xPhraseFirst?, api.xPhraseNext?, api.xColumnSize?);
    let mut hits = vec![[0u32; RANK_COLUMNS]; idfs.len()];
    // SAFETY: as for the function; out-pointers are valid locals, and the iterator is
    // only advanced while FTS5 reports a column (it sets -1 at the end).
    unsafe {
        // Only the scored phrases are walked: the feed-tag phrases after them would cost
        // as much again for nothing.
        for (phrase, row) in (0..).zip(hits.iter_mut()) {
            let mut iter = ffi::Fts5PhraseIter { a: ptr::null(), b: ptr::null() };
            let (mut col, mut off) = (0, 0);
            if first(fts, phrase, &mut iter, &mut col, &mut off) != ffi::SQLITE_OK {
                return None;
            }
            while col >= 0 {
                if let Some(cell) = usize::try_from(col).ok().and_then(|c| row.get_mut(c)) {
                    *cell += 1;
                }
                next(fts, &mut iter, &mut col, &mut off);
            }
        }
        let mut row_len = 0;
        if col_size(fts, -1, &mut row_len) != ffi::SQLITE_OK {
            return None;
        }
        let avg = average_row_len(api, fts);
        Some(bm25(&hits, weights, idfs, f64::from(row_len), avg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_hits_outrank_body_hits_and_rare_terms_weigh_more() {
        let w = [8.0, 3.0, 1.0];
        let title = bm25(&[[1, 0, 0]], &w, &[1.0], 100.0, 100.0);
        let body = bm25(&[[0, 0, 1]], &w, &[1.0], 100.0, 100.0);
        assert!(title > body);
        let rare = idf(10.0, 1_000_000.0);
        let common = idf(900_000.0, 1_000_000.0);
        assert!(rare > 5.0 * common, "{rare} vs {common}");
        assert!(common > 0.0);
        // Same hits, shorter row: the match is denser, so it ranks higher.
        assert!(
            bm25(&[[0, 1, 1]], &w, &[1.0], 50.0, 100.0)
                > bm25(&[[0, 1, 1]], &w, &[1.0], 200.0, 100.0)
        );
        // A phrase with no IDF given does not score.
        assert_eq!(bm25(&[[1, 0, 0], [5, 5, 5]], &w, &[1.0], 100.0, 100.0), title);
    }
}
