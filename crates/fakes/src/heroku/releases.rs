//! Releases: creating one (from a build, a promotion or a rollback), its release
//! phase (`pending` while the release command runs, streamed like a build), and what
//! follows a successful one: it becomes current and the dynos restart on it.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;

use super::activity::{Release, Status};
use super::buildpacks::{MIGRATION_FAILURE_LINES, MIGRATION_LINES};
use super::errors::ApiError;
use super::gate::{Actor, json_body, two_factor_code};
use super::ids::{new_id, now};
use super::logs::Log;
use super::read::Answer;
use super::world::World;
use super::{FakeHeroku, dynos};

/// The two bodies `POST /apps/{app}/releases` takes: Rollback (`release`) and Create
/// (`slug`, with an optional `description` in the caller's words).
#[derive(Deserialize)]
struct NewRelease {
    release: Option<String>,
    slug: Option<String>,
    description: Option<String>,
}

/// `POST /apps/{app}/releases`: `{"release": id}` rolls back (a new release running an
/// earlier release's slug); `{"slug": id, "description": ..}` releases a slug of the
/// app as is, described as the caller says.
pub(super) async fn create(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let (data, release_id) = fake.with_world(|world| {
        let app = world.app_to_deploy(&actor.user_id, &app)?;
        World::check_two_factor(app, two_factor_code(&headers))?;
        let request: NewRelease = json_body(&body)?;
        if let Some(slug_id) = request.slug {
            if world
                .slug(&slug_id)
                .is_none_or(|slug| slug.app_id != app.id)
            {
                return Err(ApiError::not_found("slug"));
            }
            let description = request.description.unwrap_or_else(|| "Deploy".into());
            let app_id = app.id.clone();
            let release_id =
                world.create_release(&app_id, &actor.user_id, Some(slug_id), description);
            return Ok((world.release_json(world.release(&release_id)), release_id));
        }
        let wanted = request
            .release
            .ok_or_else(|| ApiError::invalid_params("release or slug is required."))?;
        let target = world
            .releases
            .iter()
            .find(|release| release.app_id == app.id && release.id == wanted)
            .ok_or_else(|| ApiError::not_found("release"))?;
        let slug_id = target.slug_id.clone().ok_or_else(|| {
            ApiError::invalid_params(format!(
                "Release v{} has no slug to roll back to.",
                target.version
            ))
        })?;
        let (description, app_id) = (format!("Rollback to v{}", target.version), app.id.clone());
        let release_id = world.create_release(&app_id, &actor.user_id, Some(slug_id), description);
        Ok::<_, ApiError>((world.release_json(world.release(&release_id)), release_id))
    })?;
    start(fake, release_id);
    Ok((StatusCode::CREATED, Json(data)).into_response())
}

/// Runs a new release's release phase (if its app has one), then restarts the dynos.
pub(super) fn start(fake: FakeHeroku, release_id: String) {
    tokio::spawn(run(fake, release_id));
}

struct Phase {
    log: Log,
    command: String,
    duration: Duration,
    fails: bool,
}

async fn run(fake: FakeHeroku, release_id: String) {
    if let Some(phase) = fake.with_world(|world| world.plan_phase(&release_id)) {
        let mut lines: Vec<&str> = MIGRATION_LINES.to_vec();
        if phase.fails {
            lines.extend(MIGRATION_FAILURE_LINES);
        }
        let pause = phase.duration / (lines.len() as u32 + 1);
        phase
            .log
            .line(&format!("Running release command: {}", phase.command));
        for line in lines {
            tokio::time::sleep(pause).await;
            phase.log.line(line);
        }
        tokio::time::sleep(pause).await;
        let status = if phase.fails {
            Status::Failed
        } else {
            Status::Succeeded
        };
        if phase.fails {
            phase.log.line("Release command failed: the release was not deployed and the previous one keeps running.");
        }
        fake.with_world(|world| world.settle_release(&release_id, status, &phase.log));
        if phase.fails {
            return;
        }
    }
    dynos::restart(fake, &release_id).await;
}

impl World {
    pub fn release(&self, id: &str) -> &Release {
        self.releases
            .iter()
            .find(|release| release.id == id)
            .expect("release ids are known")
    }

    /// A new release of `app_id`: `pending` while a release phase will run, otherwise
    /// `succeeded` and current at once.
    pub fn create_release(
        &mut self,
        app_id: &str,
        user_id: &str,
        slug_id: Option<String>,
        description: String,
    ) -> String {
        let phase = self.app(app_id).release_command.is_some();
        let release = Release {
            id: new_id(),
            app_id: app_id.to_owned(),
            version: self.next_version(app_id),
            status: if phase {
                Status::Pending
            } else {
                Status::Succeeded
            },
            description,
            slug_id,
            user_id: user_id.to_owned(),
            current: false,
            release_phase: phase,
            created_at: now(),
            updated_at: now(),
        };
        let id = release.id.clone();
        if phase {
            self.logs.insert(id.clone(), Log::new());
        }
        self.releases.push(release);
        if !phase {
            self.make_current(&id);
        }
        let data = self.release_json(self.release(&id));
        self.publish(app_id, "api:release", "create", user_id, data, json!({}));
        id
    }

    fn make_current(&mut self, release_id: &str) {
        let app_id = self.release(release_id).app_id.clone();
        for release in self
            .releases
            .iter_mut()
            .filter(|release| release.app_id == app_id)
        {
            release.current = release.id == release_id;
        }
    }

    fn plan_phase(&mut self, release_id: &str) -> Option<Phase> {
        let release = self.release(release_id);
        if !release.release_phase {
            return None;
        }
        let (log, app_id) = (self.logs[release_id].clone(), release.app_id.clone());
        let app = self.app_mut(&app_id);
        let fails = std::mem::take(&mut app.behaviour.fail_next_release);
        let command = app.release_command.clone().unwrap_or_default();
        Some(Phase {
            log,
            command,
            duration: app.behaviour.timings.release_phase,
            fails,
        })
    }

    fn settle_release(&mut self, release_id: &str, status: Status, log: &Log) {
        log.finish();
        let release = self.release_mut(release_id);
        release.status = status;
        release.updated_at = now();
        let (app_id, user_id) = (release.app_id.clone(), release.user_id.clone());
        if status == Status::Succeeded {
            self.make_current(release_id);
        }
        let data = self.release_json(self.release(release_id));
        self.publish(
            &app_id,
            "api:release",
            "update",
            &user_id,
            data,
            json!({"status": "pending"}),
        );
        self.settle_targets(release_id, status);
    }
}
