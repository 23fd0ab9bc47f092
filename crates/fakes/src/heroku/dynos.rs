//! Restarts: after a release succeeds, every formation dyno is replaced by one on the
//! new release, `starting` and then `up` (or `crashed`, when a test armed that). One-off
//! dynos keep running what they ran.

use serde_json::json;

use super::FakeHeroku;
use super::activity::{Dyno, DynoState};
use super::ids::{new_id, now};
use super::world::World;

/// Restarts the app of `release_id` on it and waits for the dynos to settle.
pub(super) async fn restart(fake: FakeHeroku, release_id: &str) {
    let (app_id, pause, crashing) = fake.with_world(|world| world.start_dynos(release_id));
    tokio::time::sleep(pause).await;
    fake.with_world(|world| world.settle_dynos(&app_id, release_id, crashing.as_deref()));
}

impl World {
    /// Replaces the formation's dynos with `starting` ones on `release_id`.
    fn start_dynos(&mut self, release_id: &str) -> (String, std::time::Duration, Option<String>) {
        let (app_id, user_id) = {
            let release = self.release(release_id);
            (release.app_id.clone(), release.user_id.clone())
        };
        self.dynos
            .retain(|dyno| dyno.app_id != app_id || dyno.is_one_off());
        let app = self.app_mut(&app_id);
        let crashing = app.behaviour.crash_next_restart.take();
        let pause = app.behaviour.timings.restart;
        let fresh: Vec<Dyno> = app
            .formation
            .iter()
            .flat_map(|formation| {
                (1..=formation.quantity).map(|number| Dyno {
                    id: new_id(),
                    app_id: app_id.clone(),
                    name: format!("{}.{number}", formation.kind),
                    kind: formation.kind.clone(),
                    command: formation.command.clone(),
                    size: formation.size.clone(),
                    state: DynoState::Starting,
                    release_id: release_id.to_owned(),
                    created_at: now(),
                    updated_at: now(),
                })
            })
            .collect();
        for dyno in &fresh {
            let data = self.dyno_json(dyno);
            self.publish(&app_id, "dyno", "update", &user_id, data, json!({}));
        }
        self.dynos.extend(fresh);
        (app_id, pause, crashing)
    }

    /// `starting` dynos of `release_id` come up, except the one armed to crash. Dynos a
    /// newer release already replaced are left alone.
    fn settle_dynos(&mut self, app_id: &str, release_id: &str, crashing: Option<&str>) {
        let user_id = self.release(release_id).user_id.clone();
        let mut changed = Vec::new();
        for dyno in self.dynos.iter_mut() {
            if dyno.app_id != app_id
                || dyno.release_id != release_id
                || dyno.state != DynoState::Starting
            {
                continue;
            }
            dyno.state = if crashing == Some(dyno.name.as_str()) {
                DynoState::Crashed
            } else {
                DynoState::Up
            };
            dyno.updated_at = now();
            changed.push(dyno.clone());
        }
        for dyno in changed {
            // Heroku reports a dyno that stopped running as destroyed.
            let action = if dyno.state == DynoState::Crashed {
                "destroy"
            } else {
                "update"
            };
            let data = self.dyno_json(&dyno);
            self.publish(
                app_id,
                "dyno",
                action,
                &user_id,
                data,
                json!({"state": "starting"}),
            );
        }
    }
}
