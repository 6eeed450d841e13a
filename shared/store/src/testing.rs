//! Throwaway databases for tests (feature `testing`): each test gets its own fresh database,
//! so tests run in parallel against one Postgres without seeing each other's rows. The
//! end-to-end tests reuse this to point the real binaries at a clean database.
//!
//! The admin connection comes from `CRATEDIGGER_TEST_DATABASE_ADMIN_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); it must be allowed to create databases.
//! Set `CRATEDIGGER_TEST_KEEP_DATABASE=1` to keep the databases for inspection.

use crate::Store;
use sqlx::{Connection, PgConnection};
use std::time::Duration;

/// Environment variable holding the admin URL used to create and drop test databases.
pub const ADMIN_URL_ENV: &str = "CRATEDIGGER_TEST_DATABASE_ADMIN_URL";

/// Admin URL used when [`ADMIN_URL_ENV`] is not set: the local Postgres with trust auth.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Environment variable that, when set to anything but empty or `0`, keeps test databases.
pub const KEEP_ENV: &str = "CRATEDIGGER_TEST_KEEP_DATABASE";

/// Prefix of every test database's name, so leftovers of killed runs are easy to find.
pub const DATABASE_PREFIX: &str = "cd_test_";

/// Drops its database when dropped (best effort, connections forcibly closed), so a test
/// cleans up even when it panics. Keep it alive as long as the database is used.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl TestDatabase {
    /// The database's name (`cd_test_<uuid>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// URL to connect to it.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if std::env::var(KEEP_ENV).is_ok_and(|v| !v.is_empty() && v != "0") {
            eprintln!("keeping test database {}", self.name);
            return;
        }
        // Drop runs inside the test's async runtime, where blocking on a future is not
        // allowed: do the DROP on a thread with its own small runtime and wait for it.
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(&sql).execute(&mut conn).await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// The admin URL from [`ADMIN_URL_ENV`], or [`DEFAULT_ADMIN_URL`].
pub fn admin_url() -> String {
    std::env::var(ADMIN_URL_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_ADMIN_URL.to_string())
}

/// `url` with its database name replaced by `database` (query parameters kept).
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// Creates an empty database with a unique name and returns its URL and the guard that drops
/// it. No migrations are applied (a test of `migrate` needs an empty one); see
/// [`fresh_store`]. Panics with a message naming [`ADMIN_URL_ENV`] when Postgres cannot be
/// reached: a test without its database cannot say anything useful.
pub async fn fresh_database() -> (String, TestDatabase) {
    let admin_url = admin_url();
    let name = format!("{DATABASE_PREFIX}{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!(
            "cannot connect to the test Postgres ({e}); start it or set {ADMIN_URL_ENV} \
             (default {DEFAULT_ADMIN_URL})"
        )
    });
    // CREATE DATABASE copies template1 and fails if someone else is connected to it at that
    // moment (parallel test runs): retry a few times.
    let mut last_err = None;
    for attempt in 0..10u64 {
        match sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
        {
            Ok(_) => {
                last_err = None;
                break;
            }
            Err(e) => {
                last_err = Some(e);
                tokio::time::sleep(Duration::from_millis(50 * (attempt + 1))).await;
            }
        }
    }
    if let Some(e) = last_err {
        panic!("cannot create test database {name}: {e}");
    }
    let _ = conn.close().await;
    let url = with_database(&admin_url, &name);
    let guard = TestDatabase {
        name,
        url: url.clone(),
        admin_url,
    };
    (url, guard)
}

/// A fresh database with the migrations applied, and a [`Store`] on it (pool of 8).
pub async fn fresh_store() -> (Store, TestDatabase) {
    let (url, guard) = fresh_database().await;
    let store = Store::connect(&url, 8)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to test database {}: {e}", guard.name));
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrating test database {}: {e}", guard.name));
    (store, guard)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
