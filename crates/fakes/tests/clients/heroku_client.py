"""heroku3 against the fake Heroku, and plain requests with Heroku's v3 Accept header
for what heroku3 has no call for (pipelines, couplings, promotions, Range paging
by hand). Run by crates/fakes/tests/it/clients.rs with HEROKU_URL, HEROKU_TOKEN
(alice's), SOURCE_URL (a tarball link of the fake GitHub) and SOURCE_SHA."""

import os
import time

import heroku3
import requests
from requests import HTTPError

URL = os.environ["HEROKU_URL"]
TOKEN = os.environ["HEROKU_TOKEN"]
V3 = "application/vnd.heroku+json; version=3"


def expect(got, want, what):
    assert got == want, f"{what}: got {got!r}, want {want!r}"


def until(read, done, what):
    deadline = time.monotonic() + 10
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {value!r}"
        time.sleep(0.05)


# heroku3 knows only api.heroku.com; its base URL is an attribute set before login.
h = heroku3.api.Heroku()
h._heroku_url = URL
assert h.authenticate(TOKEN), "heroku3 could not log in"
expect(h.account().email, "alice@example.com", "account")

app = h.app("paipu-app-staging")
expect(app.name, "paipu-app-staging", "app")
releases = app.releases()  # heroku3 follows Next-Range past the first 200
expect(len(releases), 230, "releases across Range pages")
expect([r.version for r in releases][:3], [1, 2, 3], "releases in version order")
latest = app.releases(sort="desc", limit=5)
expect([r.version for r in latest], [230, 229, 228, 227, 226], "newest five")

build = app.create_build(os.environ["SOURCE_URL"], version=os.environ["SOURCE_SHA"])
expect(build.status, "pending", "new build")
done = until(
    lambda: next(b for b in app.builds() if b.id == build.id),
    lambda b: b.status != "pending",
    "the build",
)
expect(done.status, "succeeded", "finished build")
release = until(
    lambda: app.releases(sort="desc", limit=1)[0],
    lambda r: r.version == 231 and r.status == "succeeded",
    "the build's release",
)
formation = {f.type: f.quantity for f in app.process_formation()}
expect(formation, {"web": 2, "worker": 1}, "formation")
dynos = until(
    lambda: app.dynos(),
    lambda ds: all(d.state == "up" and d.release.version == 231 for d in ds),
    "dynos on the new release",
)
expect(sorted(d.name for d in dynos), ["web.1", "web.2", "worker.1"], "dynos")

api = requests.Session()
api.headers.update({"Accept": V3, "Authorization": f"Bearer {TOKEN}"})


def get(path, **headers):
    response = api.get(URL + path, headers=headers, timeout=10)
    assert response.status_code in (200, 206), (path, response.status_code, response.text)
    return response


versions, page = [], {"Range": "version ..; max=100, order=desc"}
while page:
    response = get("/apps/paipu-app-staging/releases", **page)
    versions += [r["version"] for r in response.json()]
    next_range = response.headers.get("Next-Range")
    expect(response.status_code, 206 if next_range else 200, "status of a page")
    page = {"Range": next_range} if next_range else None
expect(versions, list(range(231, 0, -1)), "releases paged by hand, newest first")

atlas = get("/pipelines/atlas").json()
couplings = get(f"/pipelines/{atlas['id']}/pipeline-couplings").json()
stages = sorted((c["stage"], c["app"]["id"]) for c in couplings)
expect([stage for stage, _ in stages], ["production", "production", "staging"], "stages")
apps = {c["app"]["id"]: get(f"/apps/{c['app']['id']}").json()["name"] for c in couplings}
expect(sorted(apps.values()), ["atlas-eu", "atlas-staging", "atlas-us"], "coupled apps")
source = next(app_id for app_id, name in apps.items() if name == "atlas-staging")
targets = [{"app": {"id": i}} for i, name in apps.items() if name != "atlas-staging"]
promotion = api.post(
    URL + "/pipeline-promotions",
    json={"pipeline": {"id": atlas["id"]}, "source": {"app": {"id": source}}, "targets": targets},
    timeout=10,
)
expect(promotion.status_code, 201, f"promotion {promotion.text}")
promotion = promotion.json()
finished = until(
    lambda: get(f"/pipeline-promotions/{promotion['id']}").json(),
    lambda p: p["status"] == "completed",
    "the promotion",
)
promoted = get(f"/pipeline-promotions/{promotion['id']}/promotion-targets").json()
expect({t["status"] for t in promoted}, {"succeeded"}, "promotion targets")

for path, status, code in [
    ("/apps/no-such-app", 404, "not_found"),
    ("/pipelines/no-such-pipeline", 404, "not_found"),
]:
    refused = api.get(URL + path, timeout=10)
    expect((refused.status_code, refused.json()["id"]), (status, code), path)
try:
    h.app("no-such-app")
    raise AssertionError("heroku3 found no-such-app")
except HTTPError as error:
    expect(error.response.status_code, 404, "heroku3's error")
print("heroku3 and requests: every call answered as Heroku would")
