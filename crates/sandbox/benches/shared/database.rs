//! A fresh, empty database for one benchmark run: a SQLite file, or a new database on
//! the PostgreSQL server of `BENCH_DATABASE_URL`, dropped afterwards. Shared by the
//! benchmarks that include it (`deploys`, `scale`).

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use sqlx::Executor;

/// A fresh, empty database: a SQLite file, or a new database on the PostgreSQL
/// server of `BENCH_DATABASE_URL`, dropped afterwards.
pub struct Database {
    pub url: String,
    pub backend: &'static str,
    cleanup: Cleanup,
}

enum Cleanup {
    /// The temp dir is deleted when dropped.
    Sqlite {
        _dir: tempfile::TempDir,
    },
    Postgres {
        server: String,
        name: String,
    },
}

impl Database {
    pub fn sqlite() -> anyhow::Result<Database> {
        let dir = tempfile::tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        );
        Ok(Database {
            url,
            backend: "sqlite",
            cleanup: Cleanup::Sqlite { _dir: dir },
        })
    }

    pub async fn postgres(server: &str) -> anyhow::Result<Database> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "chatops_bench_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin(server, &format!("CREATE DATABASE {name}")).await?;
        let url = chatops_testdb::with_database(server, &name);
        Ok(Database {
            url,
            backend: "postgres",
            cleanup: Cleanup::Postgres {
                server: server.into(),
                name,
            },
        })
    }

    pub async fn drop_it(self) -> anyhow::Result<()> {
        if let Cleanup::Postgres { server, name } = &self.cleanup {
            admin(
                server,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await?;
        }
        Ok(())
    }
}

async fn admin(server: &str, statement: &str) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(server)
        .await
        .context("cannot connect to BENCH_DATABASE_URL")?;
    pool.execute(statement).await?;
    pool.close().await;
    Ok(())
}
