//! Who may do what to an app, as Heroku decides it. The owner of a personal app and
//! its collaborators may do everything; so may the admins of the team owning a team
//! app (here: every account whose `teams` holds the team). Other team members reach a
//! team app only as its members, each with the team app permissions they were given
//! (`view`, `deploy`, `operate`, `manage`): seeing the app takes `view`, building,
//! releasing and being promoted onto it takes `deploy`.
//!
//! `GET /apps/{app}/collaborators` lists all of them with their role and permissions,
//! in the shape of the schema's `collaborator`.

use axum::extract::{Extension, Path, State};
use serde_json::{Value, json};

use super::FakeHeroku;
use super::errors::ApiError;
use super::gate::Actor;
use super::ids::{now, rfc3339, seeded_id};
use super::read::{Answer, json};
use super::world::{App, Budget, Owner, User, World};

/// Every team app permission, in the order Heroku lists them.
pub const PERMISSIONS: [&str; 4] = ["view", "deploy", "operate", "manage"];

/// A team member (not an admin) given access to one team app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: String,
    pub permissions: Vec<String>,
}

impl World {
    /// Whether `user_id` may change what `app` runs.
    pub fn can_deploy(&self, user_id: &str, app: &App) -> bool {
        self.owns(user_id, &app.owner)
            || app.collaborators.iter().any(|id| id == user_id)
            || app.members.iter().any(|member| {
                member.user_id == user_id && member.permissions.iter().any(|p| p == "deploy")
            })
    }

    /// [`World::app_for`], for a write that changes what the app runs: 403 without the
    /// `deploy` permission, as Heroku answers.
    pub fn app_to_deploy(&self, user_id: &str, ident: &str) -> Result<&App, ApiError> {
        let app = self.app_for(user_id, ident)?;
        if self.can_deploy(user_id, app) {
            Ok(app)
        } else {
            Err(ApiError::forbidden(format!(
                "You do not have the deploy permission on {}.",
                app.name
            )))
        }
    }

    /// `app`'s collaborators as the API lists them.
    fn collaborators_json(&self, app: &App) -> Vec<Value> {
        let entry = |user_id: &str, role: &str, permissions: &[String]| {
            let user = self.user(user_id);
            let permissions: Vec<Value> = permissions
                .iter()
                .map(|name| json!({"name": name, "description": format!("Can {name} the app.")}))
                .collect();
            json!({
                "app": {"id": app.id, "name": app.name},
                "created_at": rfc3339(app.created_at), "updated_at": rfc3339(app.created_at),
                "id": seeded_id(&format!("collaborator:{}:{user_id}", app.id)),
                "permissions": permissions, "role": role,
                "user": {"id": user.id, "email": user.email, "federated": false},
            })
        };
        let all: Vec<String> = PERMISSIONS.map(str::to_owned).to_vec();
        let mut list = Vec::new();
        match &app.owner {
            Owner::User(owner) => list.push(entry(owner, "owner", &[])),
            Owner::Team(team) => {
                for admin in self.users.iter().filter(|user| user.teams.contains(team)) {
                    list.push(entry(&admin.id, "admin", &all));
                }
            }
        }
        list.extend(
            app.collaborators
                .iter()
                .map(|id| entry(id, "collaborator", &[])),
        );
        list.extend((app.members.iter()).map(|m| entry(&m.user_id, "member", &m.permissions)));
        list
    }
}

/// `GET /apps/{app}/collaborators`.
pub(super) async fn collaborators(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
) -> Answer {
    fake.with_world(|world| {
        let app = world.app_for(&actor.user_id, &app)?;
        json(Value::Array(world.collaborators_json(app)))
    })
}

impl FakeHeroku {
    /// A new account `email`, a member (not an admin) of the team owning the apps
    /// named, with the given team app permissions on each, e.g.
    /// `[("paipu-app-production", &["view"])]`. Returns its user id.
    ///
    /// # Panics
    /// If the account exists, an app is unknown or not a team app, or a permission
    /// is not one of [`PERMISSIONS`].
    pub fn add_team_member(&self, email: &str, apps: &[(&str, &[&str])]) -> String {
        self.with_world(|world| {
            assert!(world.user_by_email(email).is_none(), "{email} exists");
            let user_id = seeded_id(&format!("user:{email}"));
            world.users.push(User {
                id: user_id.clone(),
                email: email.into(),
                name: email.split('@').next().unwrap_or(email).into(),
                two_factor_authentication: false,
                teams: Vec::new(),
                created_at: now(),
                budget: Budget::full(),
            });
            for (name, permissions) in apps {
                assert!(permissions.iter().all(|p| PERMISSIONS.contains(p)));
                let app = (world.apps.iter_mut().find(|app| app.name == *name))
                    .unwrap_or_else(|| panic!("the fake has no app {name}"));
                assert!(matches!(app.owner, Owner::Team(_)), "{name} is a team app");
                app.members.push(Member {
                    user_id: user_id.clone(),
                    permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
                });
            }
            user_id
        })
    }
}
