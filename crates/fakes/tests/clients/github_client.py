"""PyGithub against the fake GitHub: what the bot reads and writes, as another
client sees it. Run by crates/fakes/tests/it/clients.rs with GITHUB_URL and
GITHUB_TOKEN (alice's) and
GITHUB_BOB_TOKEN; 105 check runs are seeded on acme/atlas's main."""

import gzip
import io
import os
import tarfile

import requests
from github import Auth, Github, GithubException
from github.GithubException import BadCredentialsException, UnknownObjectException

URL = os.environ["GITHUB_URL"]
TOKEN = os.environ["GITHUB_TOKEN"]


def expect(got, want, what):
    assert got == want, f"{what}: got {got!r}, want {want!r}"


def refused(call, status, kind=GithubException):
    try:
        call()
    except kind as error:
        expect(error.status, status, f"status of {call}")
        assert isinstance(error.data, dict) and error.data.get("message"), error.data
        return error
    raise AssertionError(f"{call} was not refused")


# PyGithub spaces writes a second apart by default, to be kind to github.com.
FAST = {"retry": None, "seconds_between_requests": 0, "seconds_between_writes": 0}
gh = Github(base_url=URL, auth=Auth.Token(TOKEN), per_page=100, **FAST)
# The fake serves only what the bot calls, which has no GET .../commits/{ref}: a lazy
# client reaches a commit's status and check runs without fetching the commit.
lazy = Github(base_url=URL, auth=Auth.Token(TOKEN), per_page=100, lazy=True, **FAST)

user = gh.get_user()
expect(user.login, "alice", "login")
assert user.name and user.email, (user.name, user.email)
assert gh.rate_limiting[1] == 5000, gh.rate_limiting

repo = gh.get_repo("heroku/paipu-repo")
expect(repo.default_branch, "master", "default branch")
expect(repo.private, True, "private")
expect((repo.permissions.admin, repo.permissions.push), (True, True), "permissions")
expect(repo.owner.login, "heroku", "owner")

branch = repo.get_branch("master")
expect(branch.protected, True, "protected")
checks = branch.raw_data["protection"]["required_status_checks"]
expect(checks["contexts"], ["ci/circleci"], "required contexts")
sha = branch.commit.sha
expect(len(sha), 40, "sha length")
expect(branch.commit.commit.message, "Serve /health", "head message")
refused(lambda: repo.get_branch("no-such-branch"), 404)

commit = lazy.get_repo("heroku/paipu-repo").get_commit(sha)
combined = commit.get_combined_status()
expect(combined.state, "success", "combined state")
expect([s.context for s in combined.statuses], ["ci/circleci"], "status contexts")
expect(combined.repository.full_name, "heroku/paipu-repo", "status repository")

atlas = gh.get_repo("acme/atlas")
main = atlas.get_branch("main").commit.sha
runs = list(lazy.get_repo("acme/atlas").get_commit(main).get_check_runs())
expect(len(runs), 106, "check runs across pages")
assert all(run.conclusion == "success" for run in runs), runs
expect(runs[0].app.slug, "github-actions", "check run app")

deployment = repo.create_deployment(
    ref="master",
    environment="staging",
    auto_merge=False,
    required_contexts=["ci/circleci"],
    payload={"app": "paipu-app-staging"},
    description="deploy from PyGithub",
)
expect((deployment.sha, deployment.environment), (sha, "staging"), "deployment")
expect(deployment.payload, {"app": "paipu-app-staging"}, "payload")
expect(deployment.creator.login, "alice", "creator")
deployment.create_status("in_progress", environment_url="https://paipu.example.com")
done = deployment.create_status(
    "success", target_url="https://chatops.example.com/d/1", auto_inactive=True
)
expect(done.state, "success", "status state")
expect([s.state for s in deployment.get_statuses()], ["success", "in_progress"], "statuses")

for n in range(104):
    repo.create_deployment(ref=sha, environment="qa", auto_merge=False, required_contexts=[])
qa = list(repo.get_deployments(environment="qa"))
expect(len(qa), 104, "deployments across pages")
expect(repo.get_deployments().totalCount, 105, "every deployment")

refused(
    lambda: repo.create_deployment(ref="no-such-ref", environment="staging"), 422
)
conflict = refused(lambda: repo.create_deployment(ref=sha, required_contexts=["lint"]), 409)
assert "Commit status checks failed" in conflict.data["message"], conflict.data

comparison = repo.compare("master", "feature-x")
expect(comparison.status, "diverged", "compare status")
expect((comparison.ahead_by, comparison.behind_by), (2, 1), "ahead, behind")
expect(
    [c.commit.message for c in comparison.commits],
    ["Start feature x", "Finish feature x"],
    "compared commits",
)
expect(comparison.merge_base_commit.commit.message, "Add a Procfile", "merge base")

link = repo.get_archive_link("tarball", sha)
assert link.startswith(URL), link
archive = requests.get(link, timeout=10)
expect(archive.status_code, 200, "tarball download")
with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
    top = {name.split("/")[0] for name in tar.getnames()}
expect(top, {f"heroku-paipu-repo-{sha[:7]}"}, "tarball top directory")
gzip.decompress(archive.content)

refused(lambda: gh.get_repo("acme/no-such-repo").full_name, 404, UnknownObjectException)
# bob is no collaborator of the private acme/vault: GitHub hides it behind a 404.
bob = Github(base_url=URL, auth=Auth.Token(os.environ["GITHUB_BOB_TOKEN"]), **FAST)
refused(lambda: bob.get_repo("acme/vault").full_name, 404, UnknownObjectException)
expect(bob.get_repo("acme/atlas").permissions.push, False, "bob's push on atlas")
stranger = Github(base_url=URL, auth=Auth.Token("gho_not_a_token"), **FAST)
refused(lambda: stranger.get_user().login, 401, BadCredentialsException)
print("PyGithub: every call answered as GitHub would")
