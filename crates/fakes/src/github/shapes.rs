//! GitHub's full JSON shapes of the objects every endpoint embeds: a user (GitHub's
//! "simple user", and the private profile `/user` adds), a repository (minimal, as
//! the combined status embeds it, and full, as `GET /repos/{owner}/{repo}` answers),
//! and the GitHub Actions app that owns check runs. Every field GitHub's REST
//! description marks required is there, with GitHub's URL templates.

use serde_json::{Value, json};

use super::world::{Access, Account, Repo, timestamp};

/// When the seeded accounts and repositories were created: 2020-01-01T00:00:00Z.
const CREATED: i64 = 1_577_836_800;

/// An account as GitHub embeds it (`owner`, `creator`, `author`): a simple user.
pub(super) fn user_json(base: &str, login: &str, id: u64, kind: &str) -> Value {
    let url = format!("{base}/users/{login}");
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}"),
        "gravatar_id": "",
        "url": url,
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{url}/followers"),
        "following_url": format!("{url}/following{{/other_user}}"),
        "gists_url": format!("{url}/gists{{/gist_id}}"),
        "starred_url": format!("{url}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{url}/subscriptions"),
        "organizations_url": format!("{url}/orgs"),
        "repos_url": format!("{url}/repos"),
        "events_url": format!("{url}/events{{/privacy}}"),
        "received_events_url": format!("{url}/received_events"),
        "type": kind,
        "site_admin": false,
    })
}

/// A seeded account as a simple user.
pub(super) fn account_json(base: &str, account: &Account) -> Value {
    user_json(base, account.login, account.id, "User")
}

/// `GET /user` for the token's owner: the private profile.
pub(super) fn private_user_json(base: &str, account: &Account) -> Value {
    let mut user = account_json(base, account);
    let profile = json!({
        "name": account.name, "company": null, "blog": "", "location": null,
        "email": account.email, "hireable": null, "bio": null, "twitter_username": null,
        "public_repos": 1, "public_gists": 0, "followers": 0, "following": 0,
        "created_at": timestamp(CREATED), "updated_at": timestamp(CREATED),
        "private_gists": 0, "total_private_repos": 1, "owned_private_repos": 0,
        "disk_usage": 0, "collaborators": 0, "two_factor_authentication": true,
        "user_view_type": "private",
    });
    merge(&mut user, profile);
    user
}

/// A repository's owner: the seeded organisations have ids from 100 on.
fn owner_json(base: &str, repo: &Repo) -> Value {
    user_json(base, &repo.owner, 100 + repo.id, "Organization")
}

/// A repository as the combined status embeds it (GitHub's "minimal repository").
pub(super) fn minimal_repository_json(base: &str, repo: &Repo) -> Value {
    let name = repo.full_name();
    let url = format!("{base}/repos/{name}");
    let mut value = json!({
        "id": repo.id,
        "node_id": format!("R_{}", repo.id),
        "name": repo.name,
        "full_name": name,
        "owner": owner_json(base, repo),
        "private": repo.private,
        "html_url": format!("https://github.com/{name}"),
        "description": null,
        "fork": false,
        "url": url,
    });
    // Each of GitHub's `*_url` fields: the repository URL and a path template.
    let templates = [
        ("archive_url", "/{archive_format}{/ref}"),
        ("assignees_url", "/assignees{/user}"),
        ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"),
        ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"),
        ("commits_url", "/commits{/sha}"),
        ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"),
        ("contributors_url", "/contributors"),
        ("deployments_url", "/deployments"),
        ("downloads_url", "/downloads"),
        ("events_url", "/events"),
        ("forks_url", "/forks"),
        ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"),
        ("git_tags_url", "/git/tags{/sha}"),
        ("issue_comment_url", "/issues/comments{/number}"),
        ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"),
        ("keys_url", "/keys{/key_id}"),
        ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"),
        ("merges_url", "/merges"),
        ("milestones_url", "/milestones{/number}"),
        (
            "notifications_url",
            "/notifications{?since,all,participating}",
        ),
        ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"),
        ("stargazers_url", "/stargazers"),
        ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"),
        ("subscription_url", "/subscription"),
        ("tags_url", "/tags"),
        ("teams_url", "/teams"),
        ("trees_url", "/git/trees{/sha}"),
        ("hooks_url", "/hooks"),
    ];
    for (field, template) in templates {
        value[field] = json!(format!("{url}{template}"));
    }
    value
}

/// `GET /repos/{owner}/{repo}` for a caller with `access` (GitHub's "full repository").
pub(super) fn full_repository_json(base: &str, repo: &Repo, access: Access) -> Value {
    let name = repo.full_name();
    let created = timestamp(CREATED);
    let mut value = minimal_repository_json(base, repo);
    let full = json!({
        "git_url": format!("git://github.com/{name}.git"),
        "ssh_url": format!("git@github.com:{name}.git"),
        "clone_url": format!("https://github.com/{name}.git"),
        "svn_url": format!("https://github.com/{name}"),
        "mirror_url": null, "homepage": null, "language": "Rust",
        "forks_count": 0, "stargazers_count": 0, "watchers_count": 0, "size": 1,
        "default_branch": repo.default_branch, "open_issues_count": 0,
        "has_issues": true, "has_projects": false, "has_wiki": false, "has_pages": false,
        "has_discussions": false, "archived": false, "disabled": false,
        "visibility": if repo.private { "private" } else { "public" },
        "pushed_at": created, "created_at": created, "updated_at": created,
        "subscribers_count": 1, "network_count": 0, "license": null,
        "forks": 0, "open_issues": 0, "watchers": 0,
        "permissions": {
            "admin": access.admin, "maintain": access.admin, "push": access.push,
            "triage": access.push, "pull": true,
        },
    });
    merge(&mut value, full);
    value
}

/// The GitHub Actions app, as a check run's `app`.
pub(super) fn actions_app_json(base: &str) -> Value {
    json!({
        "id": 15368,
        "slug": "github-actions",
        "node_id": "MDM6QXBwMTUzNjg=",
        "owner": user_json(base, "github", 9919, "Organization"),
        "name": "GitHub Actions",
        "description": "Automate your workflow from idea to production",
        "external_url": "https://help.github.com/en/actions",
        "html_url": "https://github.com/apps/github-actions",
        "created_at": "2018-07-30T09:30:17Z",
        "updated_at": "2019-12-10T19:04:12Z",
        "permissions": {"checks": "write", "contents": "write", "deployments": "write", "metadata": "read", "statuses": "write"},
        "events": ["check_run", "check_suite", "push", "workflow_dispatch"],
    })
}

/// Copies every field of `extra` into `value` (both objects).
fn merge(value: &mut Value, extra: Value) {
    if let (Value::Object(value), Value::Object(extra)) = (value, extra) {
        value.extend(extra);
    }
}
