//! Fresh, migrated databases for the test suites of every crate: SQLite always (a new
//! temp file), and PostgreSQL when `TEST_DATABASE_URL` is set (a new database on that
//! server, dropped by [`TestDb::finish`]), so both backends pass the same tests.

use std::sync::atomic::{AtomicU32, Ordering};

use chatops::store::Store;
use sqlx::Executor;

/// One fresh, migrated database.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    /// The temp dir is deleted when dropped.
    Sqlite {
        _dir: tempfile::TempDir,
    },
    Postgres {
        server: String,
        database: String,
    },
}

impl TestDb {
    /// Closes the store and deletes the database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Cleanup::Postgres { server, database } = self.cleanup {
            let admin = admin_pool(&server).await;
            admin
                .execute(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)").as_str())
                .await
                .expect("drop the test database");
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self.cleanup {
            Cleanup::Sqlite { .. } => "sqlite",
            Cleanup::Postgres { .. } => "postgres",
        }
    }
}

/// A fresh database on every backend under test.
pub async fn databases() -> Vec<TestDb> {
    let mut databases = vec![sqlite().await];
    if let Ok(server) = std::env::var("TEST_DATABASE_URL") {
        databases.push(postgres(&server).await);
    }
    databases
}

async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
    let store = migrated(&url).await;
    TestDb {
        store,
        url,
        cleanup: Cleanup::Sqlite { _dir: dir },
    }
}

async fn postgres(server: &str) -> TestDb {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let database = format!(
        "chatops_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let admin = admin_pool(server).await;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)").as_str())
        .await
        .expect("drop a stale test database");
    admin
        .execute(format!("CREATE DATABASE {database}").as_str())
        .await
        .expect("create a test database");
    admin.close().await;
    let url = with_database(server, &database);
    let store = migrated(&url).await;
    TestDb {
        store,
        url,
        cleanup: Cleanup::Postgres {
            server: server.into(),
            database,
        },
    }
}

async fn migrated(url: &str) -> Store {
    let store = Store::connect(url)
        .await
        .expect("connect to the test database");
    store.migrate().await.expect("migrate the test database");
    store
}

async fn admin_pool(server: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(server)
        .await
        .expect("connect to TEST_DATABASE_URL")
}

/// `postgres://user@host:port/db?x` with the database replaced.
pub fn with_database(server: &str, database: &str) -> String {
    let (base, query) = server
        .split_once('?')
        .map_or((server, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_end..]
        .find('/')
        .map_or(base.len(), |i| authority_end + i);
    let mut url = format!("{}/{}", &base[..path_start], database);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}
