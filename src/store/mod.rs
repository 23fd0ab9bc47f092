//! Database access: the only module that writes SQL.
//!
//! One [`Store`] over sqlx's `Any` driver, so SQLite (the default, a local file) and
//! PostgreSQL (production, several processes) run the same code. Queries use `$1`
//! placeholders, which both backends accept; each backend has its own migration
//! folder because their DDL differs. Times are Unix seconds in `BIGINT` columns so
//! both backends agree on them without driver-specific types.

/// Declares an enum stored as text: its variants with their stored names, encoded and
/// decoded by sqlx, and a decoding that refuses any other text, because a default
/// would act on a row whose meaning it does not know.
macro_rules! stored_text {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            /// Every value, in the order declared.
            pub const ALL: &[$name] = &[$($name::$variant,)+];

            /// The text stored for it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl sqlx::Type<sqlx::any::Any> for $name {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                <String as sqlx::Type<sqlx::any::Any>>::type_info()
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::any::Any> for $name {
            fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<$name, sqlx::error::BoxDynError> {
                let text = <String as sqlx::Decode<sqlx::any::Any>>::decode(value)?;
                let known = $name::ALL.iter().copied().find(|v| v.as_str() == text);
                Ok(known.ok_or($crate::store::UnknownValue { what: $what, value: text })?)
            }
        }

        impl<'q> sqlx::Encode<'q, sqlx::any::Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::any::Any as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::any::Any>>::encode(self.as_str(), buf)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mod account_holders;
mod accounts;
mod app_locks;
mod audit;
mod channels;
mod checkpoint;
mod confirmations;
mod connections;
mod deploys;
mod history;
mod home_tabs;
mod intake;
mod locks;
mod outbox;
mod pace;
mod queue;
mod sealed;
mod signatures;
mod sweeps;
mod targets;

pub use account_holders::{AlreadyLinked, ProviderAccount};
pub use accounts::{
    GitHubLink, HerokuLink, NewOAuthState, SealedColumn, StoredAccount, StoredOAuthState,
    StoredWorkspace,
};
pub use app_locks::AppLock;
pub use audit::{NewCommand, RecordedCommand};
pub use channels::{Route, RoutedApp};
pub use connections::RepoChange;
pub use deploys::{DeployKind, DeployRow, DeployState, StepSave};
pub use home_tabs::{HomeOpening, HomeTab};
pub use locks::{LockEvent, LockRemoval, StageLock};
pub use outbox::{MessageKind, NewMessage, QueuedMessage};
pub use pace::PaceLevel;
pub use queue::QueueEntry;
pub use sealed::{DeployedApp, SealedPlace, SealedValue};
pub use targets::DeployTarget;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{Any, AnyPoolOptions, AnyTypeInfo, AnyValueRef, install_default_drivers};
use sqlx::error::BoxDynError;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use tokio::sync::Notify;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// How long a request may wait for a pooled connection before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Which database engine is behind the pool; a few statements differ between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle to the database, cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    intake: intake::Intake,
    /// Background tasks of this store stop once every clone of this is dropped.
    _alive: Arc<()>,
    /// Told after every commit that queued messages, so the outbox's sender starts at
    /// once and no producer has to remember to wake it.
    queued: Arc<Notify>,
}

impl Store {
    /// Connects to `url` (`sqlite:…` or `postgres://…`). Does not migrate.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let options = AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
        let options = match backend {
            // SQLite has one writer. With several connections, writers that collide
            // sleep in SQLite's busy handler (milliseconds each), which showed as a
            // 20 ms p99 under load; one connection makes them queue in the pool
            // instead, and every statement here is short.
            Backend::Sqlite => options.max_connections(1).after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                        .await?;
                    conn.execute(checkpoint::NO_AUTO_CHECKPOINT).await?;
                    Ok(())
                })
            }),
            Backend::Postgres => options.max_connections(10),
        };
        let pool = options
            .connect(url)
            .await
            .with_context(|| format!("cannot connect to the {backend:?} database"))?;
        let intake = intake::Intake::start(pool.clone());
        let alive = Arc::new(());
        if backend == Backend::Sqlite {
            checkpoint::start(url.to_owned(), Arc::downgrade(&alive));
        }
        Ok(Store {
            pool,
            backend,
            intake,
            _alive: alive,
            queued: Arc::default(),
        })
    }

    /// Applies the pending migrations of this backend.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .context("cannot apply database migrations")
    }

    /// Which engine this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every pooled connection; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Store {
    /// Told once messages were queued through this store: what the outbox's sender
    /// waits on between passes.
    pub fn messages_queued(&self) -> &Notify {
        &self.queued
    }

    /// Called after a commit that queued `messages`.
    fn committed(&self, messages: &[NewMessage]) {
        if !messages.is_empty() {
            self.queued.notify_one();
        }
    }
}

impl Store {
    /// Checks that the database answers.
    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .context("the database does not answer")?;
        Ok(())
    }
}

/// A 0/1 `BIGINT` column read as a `bool`; any other number is an error.
struct Flag(bool);

impl sqlx::Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <i64 as sqlx::Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <i64 as sqlx::Type<Any>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Any> for Flag {
    fn decode(value: AnyValueRef<'r>) -> Result<Flag, BoxDynError> {
        match <i64 as sqlx::Decode<Any>>::decode(value)? {
            0 => Ok(Flag(false)),
            1 => Ok(Flag(true)),
            other => Err(format!("{other} is not a flag (0 or 1)").into()),
        }
    }
}

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0
    }
}

/// Stored text naming no value of the enum read (written by hand or by a newer version).
#[derive(Debug, thiserror::Error)]
#[error("{value:?} is not a {what}")]
struct UnknownValue {
    what: &'static str,
    value: String,
}
