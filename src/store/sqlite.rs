//! The embedded store for app servers: one SQLite file (bundled SQLite, WAL,
//! `synchronous=FULL` unless asked otherwise).
//!
//! It holds a snapshot of the [`Image`] and the log of the commits since:
//! a commit appends one row to the log in its own transaction, so it is
//! durable when `commit` returns; opening reads the snapshot and replays the
//! log with [`Image::apply`], the one meaning of a change. A compaction
//! writes a new snapshot (what has expired left out) and empties the log,
//! then gives the freed pages back to the file system, so the file stays
//! near the size of what is live. A `versions` table keeps each live
//! conference's version, checked by every commit that changes it: a second
//! writer (another app-server instance sharing the file or, later, a
//! database) that decided on a stale conference gets a conflict instead of
//! overwriting.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{Change, Commit, Image, Store, StoreError};

/// The schema this library writes. Opening a file with an older schema
/// migrates it forward; a newer one is refused.
pub const SQLITE_SCHEMA_VERSION: i64 = 1;

/// Forward migrations: entry `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE snapshot (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        through_seq INTEGER NOT NULL,
        body BLOB NOT NULL
    );
    CREATE TABLE log (seq INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL);
    CREATE TABLE versions (conference TEXT PRIMARY KEY, version INTEGER NOT NULL);
"];

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sync {
    /// `synchronous=FULL`: a commit is on disk when it returns, and survives
    /// a power cut. The default.
    #[default]
    Full,
    /// `synchronous=NORMAL`: survives the process being killed, not a power
    /// cut (WAL mode). For tests and simulations that commit a lot.
    Normal,
}

/// A store in one SQLite file.
pub struct SqliteStore {
    conn: Connection,
    /// Log rows and their bytes since the last snapshot.
    log_rows: u64,
    log_bytes: u64,
    /// The snapshot's size, and how many conferences it held.
    snapshot_bytes: u64,
    snapshot_conferences: u64,
    /// Live conferences now, as the commits since tell.
    live_conferences: u64,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("log_rows", &self.log_rows)
            .field("snapshot_bytes", &self.snapshot_bytes)
            .finish_non_exhaustive()
    }
}

/// Below this much log a compaction is not worth its cost.
const MIN_COMPACTION_LOG_BYTES: u64 = 256 * 1024;

fn unavailable(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

impl SqliteStore {
    /// Opens (or creates) the store at `path`, with `synchronous=FULL`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, Sync::Full)
    }

    /// Opens (or creates) the store at `path` with the given durability.
    pub fn open_with(path: impl AsRef<Path>, sync: Sync) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(unavailable)?;
        // auto_vacuum only takes effect before the first table is created.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")
            .map_err(unavailable)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(unavailable)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Unavailable(format!(
                "cannot use WAL mode (got {mode})"
            )));
        }
        let sync = match sync {
            Sync::Full => "FULL",
            Sync::Normal => "NORMAL",
        };
        conn.execute_batch(&format!(
            "PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;"
        ))
        .map_err(unavailable)?;
        let mut store = SqliteStore {
            conn,
            log_rows: 0,
            log_bytes: 0,
            snapshot_bytes: 0,
            snapshot_conferences: 0,
            live_conferences: 0,
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(unavailable)?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")
            .map_err(unavailable)?;
        let found: Option<i64> = tx
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .optional()
            .map_err(unavailable)?;
        let mut version = found.unwrap_or(0);
        if version > SQLITE_SCHEMA_VERSION {
            return Err(StoreError::Corrupt(format!(
                "schema version {version} is newer than this library's {SQLITE_SCHEMA_VERSION}"
            )));
        }
        while version < SQLITE_SCHEMA_VERSION {
            let step = usize::try_from(version)
                .ok()
                .and_then(|i| MIGRATIONS.get(i))
                .ok_or_else(|| corrupt("schema", format!("no migration from {version}")))?;
            tx.execute_batch(step).map_err(unavailable)?;
            version += 1;
        }
        tx.execute("DELETE FROM schema_version", [])
            .map_err(unavailable)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [version],
        )
        .map_err(unavailable)?;
        tx.commit().map_err(unavailable)
    }

    /// The file's schema version (for tests and tools).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .map_err(unavailable)
    }

    /// Rows in the log since the last snapshot.
    #[must_use]
    pub fn log_len(&self) -> u64 {
        self.log_rows
    }

    fn version_of(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<Option<u64>, StoreError> {
        tx.query_row(
            "SELECT version FROM versions WHERE conference = ?1",
            [id],
            |r| r.get::<_, i64>(0),
        )
        .optional()
        .map_err(unavailable)
        .map(|v| v.and_then(|v| u64::try_from(v).ok()))
    }
}

/// SQLite stores integers as i64; versions and times fit.
fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Image, StoreError> {
        let snapshot: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT through_seq, body FROM snapshot WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(unavailable)?;
        let mut image = match snapshot {
            Some((through, body)) => {
                self.snapshot_bytes = body.len() as u64;
                serde_json::from_slice::<Image>(&body)
                    .map_err(|e| corrupt(&format!("snapshot through {through}"), e))?
            }
            None => Image::default(),
        };
        self.snapshot_conferences = image.conferences.len() as u64;
        // A compaction empties the log in the transaction that writes the
        // snapshot, so every row still there came after it.
        let mut stmt = self
            .conn
            .prepare("SELECT seq, body FROM log ORDER BY seq")
            .map_err(unavailable)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .map_err(unavailable)?;
        let (mut n, mut bytes) = (0u64, 0u64);
        for row in rows {
            let (seq, body) = row.map_err(unavailable)?;
            let commit: Commit =
                serde_json::from_slice(&body).map_err(|e| corrupt(&format!("log {seq}"), e))?;
            image
                .apply(&commit)
                .map_err(|e| corrupt(&format!("log {seq}"), e))?;
            n += 1;
            bytes += body.len() as u64;
        }
        drop(stmt);
        self.log_rows = n;
        self.log_bytes = bytes;
        self.live_conferences = image.conferences.len() as u64;
        Ok(image)
    }

    fn commit(&mut self, commit: &Commit) -> Result<(), StoreError> {
        let body = serde_json::to_vec(commit).map_err(|e| corrupt("commit", e))?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(unavailable)?;
        let mut live = self.live_conferences;
        for change in &commit.changes {
            match change {
                Change::ConferencePut {
                    expected_version,
                    conference,
                    ..
                } => {
                    let id = conference.id.to_string();
                    let found = Self::version_of(&tx, &id)?;
                    if found != *expected_version {
                        return Err(StoreError::Conflict {
                            conference: conference.id,
                            expected: *expected_version,
                            found,
                        });
                    }
                    if found.is_none() {
                        live += 1;
                    }
                    tx.execute(
                        "INSERT INTO versions (conference, version) VALUES (?1, ?2)
                         ON CONFLICT (conference) DO UPDATE SET version = excluded.version",
                        params![id, int(conference.version)],
                    )
                    .map_err(unavailable)?;
                }
                Change::ConferenceDestroyed {
                    id,
                    expected_version,
                    ..
                } => {
                    let key = id.to_string();
                    let found = Self::version_of(&tx, &key)?;
                    if found != Some(*expected_version) {
                        return Err(StoreError::Conflict {
                            conference: *id,
                            expected: Some(*expected_version),
                            found,
                        });
                    }
                    live = live.saturating_sub(1);
                    tx.execute("DELETE FROM versions WHERE conference = ?1", [key])
                        .map_err(unavailable)?;
                }
                _ => {}
            }
        }
        tx.execute("INSERT INTO log (body) VALUES (?1)", [&body])
            .map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        self.log_rows += 1;
        self.log_bytes += body.len() as u64;
        self.live_conferences = live;
        Ok(())
    }

    /// When the log outgrew the snapshot (so the file is at most about twice
    /// what is live), or when most of the snapshot's conferences are gone.
    fn wants_compaction(&self) -> bool {
        let log_big = self.log_bytes >= self.snapshot_bytes.max(MIN_COMPACTION_LOG_BYTES);
        let mostly_gone = self.snapshot_conferences >= 64
            && self.live_conferences.saturating_mul(2) < self.snapshot_conferences;
        log_big || mostly_gone
    }

    fn compact(&mut self, image: &Image) -> Result<(), StoreError> {
        let body = serde_json::to_vec(image).map_err(|e| corrupt("snapshot", e))?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(unavailable)?;
        let through: i64 = tx
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM log", [], |r| r.get(0))
            .map_err(unavailable)?;
        tx.execute(
            "INSERT INTO snapshot (id, through_seq, body) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET through_seq = excluded.through_seq, body = excluded.body",
            params![through, body],
        )
        .map_err(unavailable)?;
        tx.execute("DELETE FROM log", []).map_err(unavailable)?;
        tx.execute("DELETE FROM versions", [])
            .map_err(unavailable)?;
        {
            let mut insert = tx
                .prepare("INSERT INTO versions (conference, version) VALUES (?1, ?2)")
                .map_err(unavailable)?;
            for (id, c) in &image.conferences {
                insert
                    .execute(params![id.to_string(), int(c.record.version)])
                    .map_err(unavailable)?;
            }
        }
        tx.commit().map_err(unavailable)?;
        self.log_rows = 0;
        self.log_bytes = 0;
        self.snapshot_bytes = body.len() as u64;
        self.snapshot_conferences = image.conferences.len() as u64;
        self.live_conferences = self.snapshot_conferences;
        // Give the freed pages back (the pragma frees a page per step, so
        // step it to the end); the WAL goes back to empty.
        {
            let mut vacuum = self
                .conn
                .prepare("PRAGMA incremental_vacuum")
                .map_err(unavailable)?;
            let mut rows = vacuum.query([]).map_err(unavailable)?;
            while rows.next().map_err(unavailable)?.is_some() {}
        }
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(unavailable)?;
        Ok(())
    }
}
