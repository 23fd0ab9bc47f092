//! `POST /pipeline-promotions`: copying the source app's current slug to each target
//! app of the pipeline, no rebuild. Each target gets a new release (with its own release
//! phase and restart); a target succeeds or fails with its release, and the promotion
//! is `completed` once every target has.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;

use super::activity::{Promotion, PromotionTarget, Status};
use super::errors::ApiError;
use super::gate::{Actor, json_body, two_factor_code};
use super::ids::{new_id, now, short_sha};
use super::read::Answer;
use super::world::World;
use super::{FakeHeroku, releases};

#[derive(Deserialize)]
struct NewPromotion {
    pipeline: Option<Reference>,
    source: Option<Source>,
    targets: Option<Vec<Target>>,
}

#[derive(Deserialize)]
struct Reference {
    id: Option<String>,
}

#[derive(Deserialize)]
struct Source {
    app: Option<Reference>,
    release: Option<Reference>,
}

#[derive(Deserialize)]
struct Target {
    app: Option<Reference>,
}

fn id_of(reference: Option<Reference>, field: &str) -> Result<String, ApiError> {
    reference
        .and_then(|reference| reference.id)
        .ok_or_else(|| ApiError::invalid_params(format!("{field} is required.")))
}

pub(super) async fn create(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let (data, promotion_id) = fake.with_world(|world| {
        let promotion =
            world.new_promotion(&actor, json_body(&body)?, two_factor_code(&headers))?;
        let data = world.promotion_json(&promotion);
        let id = promotion.id.clone();
        world.promotions.push(promotion);
        Ok::<_, ApiError>((data, id))
    })?;
    tokio::spawn(run(fake, promotion_id));
    Ok((StatusCode::CREATED, Json(data)).into_response())
}

async fn run(fake: FakeHeroku, promotion_id: String) {
    let pause = fake.with_world(|world| {
        let promotion = world
            .promotions
            .iter()
            .find(|promotion| promotion.id == promotion_id)
            .expect("promotions run once created");
        world
            .app(&promotion.source_app_id)
            .behaviour
            .timings
            .promotion
    });
    tokio::time::sleep(pause).await;
    for release_id in fake.with_world(|world| world.release_targets(&promotion_id)) {
        releases::start(fake.clone(), release_id);
    }
}

impl World {
    /// Validates a promotion request as Heroku does: the pipeline exists for the user,
    /// source and targets are its apps and accessible, protected targets get their
    /// second factor, and the source has a slug to copy.
    fn new_promotion(
        &self,
        actor: &Actor,
        request: NewPromotion,
        code: Option<&str>,
    ) -> Result<Promotion, ApiError> {
        let pipeline_id = id_of(request.pipeline, "pipeline.id")?;
        let source = request
            .source
            .ok_or_else(|| ApiError::invalid_params("source is required."))?;
        let source_app_id = id_of(source.app, "source.app.id")?;
        let targets = request
            .targets
            .filter(|targets| !targets.is_empty())
            .ok_or_else(|| ApiError::invalid_params("targets is required."))?;
        let pipeline = self
            .pipeline_for(&actor.user_id, &pipeline_id)
            .ok()
            .filter(|pipeline| pipeline.id == pipeline_id);
        let pipeline = pipeline.ok_or_else(|| ApiError::not_found("pipeline"))?;
        let in_pipeline = |app_id: &str| {
            self.couplings
                .iter()
                .any(|coupling| coupling.pipeline_id == pipeline.id && coupling.app_id == app_id)
        };
        let source_app = self.app_for(&actor.user_id, &source_app_id)?;
        if !in_pipeline(&source_app.id) {
            return Err(ApiError::invalid_params(format!(
                "Source app {} is not in pipeline {}.",
                source_app.name, pipeline.name
            )));
        }
        let mut target_ids = Vec::new();
        for target in targets {
            let target =
                self.app_to_deploy(&actor.user_id, &id_of(target.app, "targets.app.id")?)?;
            if !in_pipeline(&target.id) || target.id == source_app.id {
                return Err(ApiError::invalid_params(format!(
                    "Target app {} is not a downstream app of pipeline {}.",
                    target.name, pipeline.name
                )));
            }
            World::check_two_factor(target, code)?;
            target_ids.push(target.id.clone());
        }
        let source_release = match source.release.and_then(|release| release.id) {
            Some(id) => self
                .releases
                .iter()
                .find(|release| release.id == id && release.app_id == source_app.id),
            None => self.current_release(&source_app.id),
        };
        let source_release = source_release
            .filter(|release| release.slug_id.is_some())
            .ok_or_else(|| {
                ApiError::invalid_params(format!(
                    "{} has no release with a slug to promote.",
                    source_app.name
                ))
            })?;
        let targets = target_ids
            .into_iter()
            .map(|app_id| PromotionTarget {
                id: new_id(),
                app_id,
                release_id: None,
                status: Status::Pending,
                error_message: None,
            })
            .collect();
        Ok(Promotion {
            id: new_id(),
            pipeline_id: pipeline.id.clone(),
            source_app_id: source_app.id.clone(),
            source_release_id: source_release.id.clone(),
            user_id: actor.user_id.clone(),
            completed: false,
            targets,
            created_at: now(),
            updated_at: now(),
        })
    }

    /// Creates each target's release of the source slug; returns the releases to run.
    fn release_targets(&mut self, promotion_id: &str) -> Vec<String> {
        let index = self
            .promotions
            .iter()
            .position(|promotion| promotion.id == promotion_id)
            .expect("promotions run once created");
        let promotion = self.promotions[index].clone();
        let source = self.release(&promotion.source_release_id).clone();
        let commit = source
            .slug_id
            .as_deref()
            .and_then(|id| self.slug(id))
            .and_then(|slug| slug.commit.clone());
        let description = format!(
            "Promote {} v{} {}",
            self.app(&promotion.source_app_id).name,
            source.version,
            short_sha(commit.as_deref())
        );
        let mut started = Vec::new();
        for (position, target) in promotion.targets.iter().enumerate() {
            let release_id = self.create_release(
                &target.app_id,
                &promotion.user_id,
                source.slug_id.clone(),
                description.clone(),
            );
            let status = self.release(&release_id).status;
            let stored = &mut self.promotions[index].targets[position];
            stored.release_id = Some(release_id.clone());
            stored.status = status;
            started.push(release_id);
        }
        self.complete_promotions();
        started
    }

    /// A release reached its outcome: so did the promotion targets it belongs to.
    pub fn settle_targets(&mut self, release_id: &str, status: Status) {
        let targets = self
            .promotions
            .iter_mut()
            .flat_map(|promotion| promotion.targets.iter_mut());
        for target in targets.filter(|target| target.release_id.as_deref() == Some(release_id)) {
            target.status = status;
            if status == Status::Failed {
                target.error_message = Some("The release phase failed on this app.".into());
            }
        }
        self.complete_promotions();
    }

    fn complete_promotions(&mut self) {
        for promotion in self
            .promotions
            .iter_mut()
            .filter(|promotion| !promotion.completed)
        {
            if promotion
                .targets
                .iter()
                .all(|target| target.status != Status::Pending)
            {
                promotion.completed = true;
                promotion.updated_at = now();
            }
        }
    }
}
