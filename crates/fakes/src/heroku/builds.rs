//! `POST /apps/{app}/builds` and what follows: the fake downloads the source tarball
//! (failing the build with a clear line when it cannot), streams buildpack output over
//! the configured build time, and on success makes a slug and a release.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;

use super::FakeHeroku;
use super::activity::{Build, Slug, SourceBlob, Status};
use super::buildpacks::{Language, PACKAGING, PREAMBLE};
use super::errors::ApiError;
use super::gate::{Actor, json_body, two_factor_code};
use super::ids::{new_id, now, short_sha};
use super::logs::Log;
use super::read::Answer;
use super::releases;
use super::world::World;

#[derive(Deserialize)]
struct NewBuild {
    source_blob: Option<NewSourceBlob>,
}

#[derive(Deserialize)]
struct NewSourceBlob {
    url: Option<String>,
    version: Option<String>,
    version_description: Option<String>,
    checksum: Option<String>,
}

pub(super) async fn create(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let (build, build_id) = fake.with_world(|world| {
        let app = world.app_to_deploy(&actor.user_id, &app)?;
        World::check_two_factor(app, two_factor_code(&headers))?;
        let source_blob = source_blob(json_body(&body)?)?;
        let build = Build {
            id: new_id(),
            app_id: app.id.clone(),
            user_id: actor.user_id.clone(),
            status: Status::Pending,
            source_blob,
            slug_id: None,
            release_id: None,
            created_at: now(),
            updated_at: now(),
        };
        let (id, app_id) = (build.id.clone(), build.app_id.clone());
        world.logs.insert(id.clone(), Log::new());
        world.builds.push(build);
        let data = world.build_json(world.builds.last().expect("just pushed"));
        world.publish(
            &app_id,
            "api:build",
            "create",
            &actor.user_id,
            data.clone(),
            json!({}),
        );
        Ok::<_, ApiError>((data, id))
    })?;
    tokio::spawn(run(fake, build_id));
    Ok((StatusCode::CREATED, Json(build)).into_response())
}

/// The schema requires `source_blob.url`; Heroku fetches it over HTTP(S).
fn source_blob(request: NewBuild) -> Result<SourceBlob, ApiError> {
    let blob = request
        .source_blob
        .ok_or_else(|| ApiError::invalid_params("source_blob is required."))?;
    let url = blob
        .url
        .filter(|url| !url.is_empty())
        .ok_or_else(|| ApiError::invalid_params("source_blob.url is required."))?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ApiError::invalid_params(
            "source_blob.url must be an http or https URL.",
        ));
    }
    Ok(SourceBlob {
        url,
        version: blob.version,
        version_description: blob.version_description,
        checksum: blob.checksum,
    })
}

/// What one build run needs, read under the lock.
struct Plan {
    log: Log,
    url: String,
    language: Language,
    duration: std::time::Duration,
    /// Fails, after printing these lines of the app's own.
    fails: Option<Vec<String>>,
}

/// Drives one build from `pending` to its outcome.
async fn run(fake: FakeHeroku, build_id: String) {
    let plan = fake.with_world(|world| world.plan_build(&build_id));
    plan.log.lines(PREAMBLE);
    if let Err(reason) = fetch(fake.http(), &plan.url).await {
        plan.log.line(&format!(
            " !     Unable to fetch source from {}: {reason}",
            without_query(&plan.url)
        ));
        plan.log.line(" !     Push failed");
        return fake.with_world(|world| world.fail_build(&build_id, &plan.log));
    }
    plan.log.line(&format!(
        "-----> Using buildpack: {}",
        plan.language.buildpack_name()
    ));
    let ending = if plan.fails.is_some() {
        plan.language.failure_lines()
    } else {
        PACKAGING
    };
    let own = plan.fails.iter().flatten().map(String::as_str);
    let steps: Vec<&str> = (plan.language.compile_lines().iter().copied())
        .chain(own)
        .chain(ending.iter().copied())
        .collect();
    let pause = plan.duration / (steps.len() as u32 + 1);
    for line in steps {
        tokio::time::sleep(pause).await;
        plan.log.line(line);
    }
    tokio::time::sleep(pause).await;
    if plan.fails.is_some() {
        return fake.with_world(|world| world.fail_build(&build_id, &plan.log));
    }
    let release_id = fake.with_world(|world| world.complete_build(&build_id, &plan.log));
    releases::start(fake, release_id);
}

/// Downloads the tarball as Heroku's build system would (redirects followed).
async fn fetch(http: &reqwest::Client, url: &str) -> Result<(), String> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|error| format!("could not download it ({})", error.without_url()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the server answered HTTP {status}"));
    }
    let body = response
        .bytes()
        .await
        .map_err(|error| format!("the download broke off ({})", error.without_url()))?;
    if !body.starts_with(&[0x1f, 0x8b]) {
        return Err("it is not a gzipped tarball".into());
    }
    Ok(())
}

/// Source URLs may carry a token in the query; logs never show it.
fn without_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(base, _)| base)
}

impl World {
    fn plan_build(&mut self, build_id: &str) -> Plan {
        let build = self
            .builds
            .iter()
            .find(|build| build.id == build_id)
            .expect("builds run once created");
        let (url, app_id) = (build.source_blob.url.clone(), build.app_id.clone());
        let log = self.logs[build_id].clone();
        let app = self.app_mut(&app_id);
        let fails = app.behaviour.fail_next_build.take();
        Plan {
            log,
            url,
            language: app.language,
            duration: app.behaviour.timings.build,
            fails,
        }
    }

    fn finish_build(&mut self, build_id: &str, status: Status, log: &Log) {
        log.finish();
        let build = self
            .builds
            .iter_mut()
            .find(|build| build.id == build_id)
            .expect("builds run once created");
        build.status = status;
        build.updated_at = now();
        let (app_id, user_id) = (build.app_id.clone(), build.user_id.clone());
        let data = self.build_json(
            self.builds
                .iter()
                .find(|build| build.id == build_id)
                .expect("still there"),
        );
        self.publish(
            &app_id,
            "api:build",
            "update",
            &user_id,
            data,
            json!({"status": "pending"}),
        );
    }

    fn fail_build(&mut self, build_id: &str, log: &Log) {
        self.finish_build(build_id, Status::Failed, log);
    }

    /// The build's slug and release, created together as Heroku does; returns the
    /// release to run.
    fn complete_build(&mut self, build_id: &str, log: &Log) -> String {
        let build = self
            .builds
            .iter()
            .find(|build| build.id == build_id)
            .expect("builds run once created")
            .clone();
        let slug = Slug {
            id: new_id(),
            app_id: build.app_id.clone(),
            commit: build.source_blob.version.clone(),
            commit_description: build.source_blob.version_description.clone(),
            size: 60_000_000 + u64::from(fastrand::u32(..4_000_000)),
            created_at: now(),
        };
        let slug_id = slug.id.clone();
        self.slugs.push(slug);
        let description = format!("Deploy {}", short_sha(build.source_blob.version.as_deref()))
            .trim_end()
            .to_owned();
        let release_id = self.create_release(
            &build.app_id,
            &build.user_id,
            Some(slug_id.clone()),
            description,
        );
        let version = self
            .releases
            .iter()
            .find(|release| release.id == release_id)
            .map_or(0, |release| release.version);
        let web_url = self.app(&build.app_id).web_url();
        log.lines(&[
            &format!("       Released v{version}"),
            &format!("       {web_url} deployed to Heroku"),
        ]);
        let stored = self
            .builds
            .iter_mut()
            .find(|build| build.id == build_id)
            .expect("builds run once created");
        stored.slug_id = Some(slug_id);
        stored.release_id = Some(release_id.clone());
        self.finish_build(build_id, Status::Succeeded, log);
        release_id
    }
}
