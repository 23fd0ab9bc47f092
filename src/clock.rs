//! The wall clock, injectable so tests can move time instead of sleeping.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Tells the current Unix time (kept in milliseconds).
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(Arc::new(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_millis() as i64)
        }))
    }

    /// A clock whose time in seconds is `now()`, for tests.
    pub fn from_fn(now: impl Fn() -> i64 + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(move || now() * 1000))
    }

    /// The current Unix time in seconds.
    pub fn now(&self) -> i64 {
        (self.0)().div_euclid(1000)
    }

    /// The current Unix time in milliseconds, for durations shown to people.
    pub fn now_millis(&self) -> i64 {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock(now = {})", self.now())
    }
}
