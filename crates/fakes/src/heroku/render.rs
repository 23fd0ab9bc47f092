//! The JSON the fake answers with, field for field the shapes of the Platform API
//! schema (every property present, `null` when unset), so clients meet what the real
//! API sends.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::activity::{Build, Dyno, Promotion, PromotionTarget, Release, Slug, Status, Webhook};
use super::ids::{rfc3339, seeded_id};
use super::world::{App, Coupling, Formation, Owner, Pipeline, User, World};

const STACK: &str = "heroku-24";

fn named(kind: &str, name: &str) -> Value {
    json!({"id": seeded_id(&format!("{kind}:{name}")), "name": name})
}

fn stack() -> Value {
    named("stack", STACK)
}

fn generation() -> Value {
    named("generation", "cedar")
}

fn time(unix: i64) -> Value {
    Value::String(rfc3339(unix))
}

impl World {
    pub fn stream_url(&self, id: &str) -> String {
        format!("{}/streams/{id}", self.base_url)
    }

    fn user_ref(&self, user_id: &str) -> Value {
        let user = self.user(user_id);
        json!({"id": user.id, "email": user.email})
    }

    fn team_ref(&self, team_id: &str) -> Value {
        let team = self
            .teams
            .iter()
            .find(|team| team.id == team_id)
            .expect("owners are known teams");
        json!({"id": team.id, "name": team.name})
    }

    pub fn account_json(&self, user: &User) -> Value {
        let default_team = user
            .teams
            .first()
            .map_or(Value::Null, |team| self.team_ref(team));
        json!({
            "allow_tracking": true, "beta": false, "created_at": time(user.created_at), "email": user.email,
            "federated": false, "id": user.id, "identity_provider": null, "last_login": time(user.created_at),
            "name": user.name, "sms_number": null, "suspended_at": null, "delinquent_at": null,
            "two_factor_authentication": user.two_factor_authentication, "updated_at": time(user.created_at),
            "verified": true, "country_of_residence": null, "default_organization": default_team.clone(),
            "default_team": default_team,
        })
    }

    pub fn pipeline_json(&self, pipeline: &Pipeline) -> Value {
        let owner = match &pipeline.owner {
            Owner::Team(id) => json!({"id": id, "type": "team"}),
            Owner::User(id) => json!({"id": id, "type": "user"}),
        };
        json!({
            "created_at": time(pipeline.created_at), "id": pipeline.id, "name": pipeline.name, "owner": owner,
            "updated_at": time(pipeline.created_at), "generation": generation(),
        })
    }

    pub fn coupling_json(&self, coupling: &Coupling) -> Value {
        json!({
            "app": {"id": coupling.app_id}, "created_at": time(coupling.created_at), "id": coupling.id,
            "pipeline": {"id": coupling.pipeline_id}, "stage": coupling.stage, "updated_at": time(coupling.created_at),
        })
    }

    pub fn app_json(&self, app: &App) -> Value {
        let (owner, team) = match &app.owner {
            Owner::Team(id) => {
                let team = self.team_ref(id);
                (
                    json!({"email": format!("{}@herokumanager.com", team["name"].as_str().unwrap_or("team")), "id": id}),
                    team,
                )
            }
            Owner::User(id) => (self.user_ref(id), Value::Null),
        };
        let current = self.current_release(&app.id);
        let slug = current
            .and_then(|release| release.slug_id.as_deref())
            .and_then(|id| self.slug(id));
        json!({
            "acm": false, "archived_at": null, "buildpack_provided_description": app.language.description(),
            "build_stack": stack(), "created_at": time(app.created_at), "generation": generation(),
            "git_url": format!("https://git.heroku.com/{}.git", app.name), "id": app.id, "internal_routing": null,
            "maintenance": false, "name": app.name, "owner": owner, "organization": team.clone(), "team": team,
            "region": named("region", app.region), "released_at": current.map_or(Value::Null, |release| time(release.created_at)),
            "repo_size": null, "slug_size": slug.map_or(Value::Null, |slug| slug.size.into()), "space": null,
            "stack": stack(), "updated_at": time(app.created_at),
            "web_url": app.web_url(),
        })
    }

    pub fn build_json(&self, build: &Build) -> Value {
        let app = self.app(&build.app_id);
        let blob = &build.source_blob;
        json!({
            "app": {"id": build.app_id},
            "buildpacks": [{"url": app.language.buildpack_url(), "name": app.language.buildpack_name()}],
            "created_at": time(build.created_at), "generation": "cedar", "id": build.id,
            "output_stream_url": self.stream_url(&build.id),
            "source_blob": {"checksum": blob.checksum, "url": blob.url, "version": blob.version, "version_description": blob.version_description},
            "release": build.release_id.as_ref().map(|id| json!({"id": id})),
            "slug": build.slug_id.as_ref().map(|id| json!({"id": id})),
            "stack": STACK, "status": build.status.as_str(), "updated_at": time(build.updated_at),
            "user": self.user_ref(&build.user_id),
        })
    }

    pub fn release_json(&self, release: &Release) -> Value {
        let app = self.app(&release.app_id);
        let artifacts: Vec<Value> = release
            .slug_id
            .iter()
            .map(|id| json!({"type": "slug", "id": id}))
            .collect();
        let eligible =
            release.slug_id.is_some() && !release.current && release.status == Status::Succeeded;
        json!({
            "addon_plan_names": ["heroku-postgresql:essential-0", "papertrail:choklad"], "artifacts": artifacts,
            "app": {"name": app.name, "id": app.id}, "created_at": time(release.created_at),
            "description": release.description, "id": release.id, "updated_at": time(release.updated_at),
            "slug": release.slug_id.as_ref().map(|id| json!({"id": id})), "status": release.status.as_str(),
            "user": self.user_ref(&release.user_id), "version": release.version, "current": release.current,
            "output_stream_url": if release.release_phase { Value::String(self.stream_url(&release.id)) } else { Value::Null },
            "eligible_for_rollback": eligible,
        })
    }

    pub fn slug_json(&self, slug: &Slug) -> Value {
        let app = self.app(&slug.app_id);
        let process_types: serde_json::Map<String, Value> = app
            .formation
            .iter()
            .map(|formation| (formation.kind.clone(), formation.command.clone().into()))
            .collect();
        json!({
            "blob": {"method": "get", "url": format!("https://s3.amazonaws.com/herokuslugs/heroku.com/v1/{}", slug.id)},
            "buildpack_provided_description": app.language.description(),
            "checksum": format!("SHA256:{}", hex::encode(Sha256::digest(slug.id.as_bytes()))),
            "commit": slug.commit, "commit_description": slug.commit_description, "created_at": time(slug.created_at),
            "id": slug.id, "process_types": process_types, "size": slug.size, "stack": stack(),
            "updated_at": time(slug.created_at), "deleted_at": null,
        })
    }

    pub fn dyno_json(&self, dyno: &Dyno) -> Value {
        let app = self.app(&dyno.app_id);
        let version = self
            .releases
            .iter()
            .find(|release| release.id == dyno.release_id)
            .map_or(0, |release| release.version);
        json!({
            "attach_url": null, "command": dyno.command, "created_at": time(dyno.created_at), "id": dyno.id,
            "name": dyno.name, "release": {"id": dyno.release_id, "version": version},
            "app": {"name": app.name, "id": app.id}, "size": dyno.size, "state": dyno.state.as_str(),
            "type": dyno.kind, "updated_at": time(dyno.updated_at),
        })
    }

    pub fn formation_json(&self, app: &App, formation: &Formation) -> Value {
        json!({
            "app": {"name": app.name, "id": app.id}, "command": formation.command, "created_at": time(app.created_at),
            "dyno_size": named("dyno-size", &formation.size), "id": formation.id, "quantity": formation.quantity,
            "size": formation.size, "type": formation.kind, "updated_at": time(formation.updated_at),
        })
    }

    pub fn promotion_json(&self, promotion: &Promotion) -> Value {
        json!({
            "created_at": time(promotion.created_at), "id": promotion.id, "pipeline": {"id": promotion.pipeline_id},
            "source": {"app": {"id": promotion.source_app_id}, "release": {"id": promotion.source_release_id}},
            "status": if promotion.completed { "completed" } else { "pending" }, "updated_at": time(promotion.updated_at),
        })
    }

    pub fn target_json(&self, promotion: &Promotion, target: &PromotionTarget) -> Value {
        json!({
            "app": {"id": target.app_id}, "error_message": target.error_message, "id": target.id,
            "pipeline_promotion": {"id": promotion.id},
            "release": target.release_id.as_ref().map(|id| json!({"id": id})), "status": target.status.as_str(),
        })
    }

    pub fn webhook_json(&self, webhook: &Webhook) -> Value {
        let app = self.app(&webhook.app_id);
        json!({
            "app": {"id": app.id, "name": app.name}, "created_at": time(webhook.created_at), "id": webhook.id,
            "include": webhook.include, "level": webhook.level, "updated_at": time(webhook.updated_at), "url": webhook.url,
        })
    }
}
