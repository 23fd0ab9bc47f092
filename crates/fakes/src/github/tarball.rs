//! Source tarballs the way GitHub hands them to Heroku: the API answers 302 with a
//! codeload link carrying a token that works for five minutes; the link serves a real
//! gzipped tarball whose single top-level directory is `{owner}-{repo}-{sha7}/`.

use std::io::Write;

use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Deserialize;

use super::FakeGitHub;
use super::http::{Caller, Need, Refusal, not_found, repo_for};
use super::world::{Commit, TarballGrant, random_alphanumeric};

/// How long a tarball link works, as GitHub documents for private repositories.
pub(super) const LINK_LIFETIME_SECS: i64 = 5 * 60;

/// `GET /repos/{owner}/{repo}/tarball`: the default branch's tarball.
pub(super) async fn redirect_default(
    state: State<FakeGitHub>,
    caller: Extension<Caller>,
    Path((owner, name)): Path<(String, String)>,
) -> Result<Response, Refusal> {
    redirect(state, caller, Path((owner, name, String::new()))).await
}

/// `GET /repos/{owner}/{repo}/tarball/{ref}`: 302 to a short-lived codeload link.
pub(super) async fn redirect(
    State(fake): State<FakeGitHub>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, git_ref)): Path<(String, String, String)>,
) -> Result<Response, Refusal> {
    let mut world = fake.world();
    let repo = &world.repos[repo_for(&world, &caller, &owner, &name, Need::Read)?];
    let wanted = if git_ref.is_empty() {
        repo.default_branch.clone()
    } else {
        git_ref
    };
    let Some(sha) = repo.resolve(&wanted) else {
        return Err(not_found());
    };
    let full_name = repo.full_name();
    let token = random_alphanumeric(32);
    let expires_at = world.now() + LINK_LIFETIME_SECS;
    world.tarballs.insert(
        token.clone(),
        TarballGrant {
            repo: full_name.clone(),
            sha: sha.clone(),
            expires_at,
        },
    );
    let location = format!(
        "{}/codeload/{full_name}/legacy.tar.gz/{sha}?token={token}",
        fake.base_url
    );
    Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}

#[derive(Deserialize)]
pub(super) struct Download {
    token: Option<String>,
}

/// `GET /codeload/{owner}/{repo}/legacy.tar.gz/{sha}?token=…`: the tarball, or 404
/// once the link has expired (or was never handed out).
pub(super) async fn download(
    State(fake): State<FakeGitHub>,
    Path((owner, name, sha)): Path<(String, String, String)>,
    Query(download): Query<Download>,
) -> Response {
    let world = fake.world();
    let full_name = format!("{owner}/{name}");
    let now = world.now();
    let granted = download
        .token
        .as_ref()
        .and_then(|token| world.tarballs.get(token))
        .is_some_and(|grant| grant.repo == full_name && grant.sha == sha && now < grant.expires_at);
    let commit = world
        .repo_index(&owner, &name)
        .and_then(|repo| world.repos[repo].commit(&sha));
    let (true, Some(commit)) = (granted, commit) else {
        return (StatusCode::NOT_FOUND, "404: Not Found").into_response();
    };
    let top = format!("{owner}-{name}-{}", &sha[..7]);
    let archive = tarball(&top, &full_name, commit);
    let disposition = format!("attachment; filename={top}.tar.gz");
    (
        [
            (header::CONTENT_TYPE, "application/x-gzip".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        archive,
    )
        .into_response()
}

/// A tiny app at `commit`: a Procfile, its start script, a README, and `REVISION`
/// holding the full sha, all under `top/`.
fn tarball(top: &str, full_name: &str, commit: &Commit) -> Vec<u8> {
    let files = [
        ("Procfile", "web: bin/web\n".to_owned(), 0o644),
        (
            "bin/web",
            "#!/bin/sh\nexec python3 -m http.server \"$PORT\"\n".to_owned(),
            0o755,
        ),
        (
            "README.md",
            format!("# {full_name}\n\n{}\n", commit.message),
            0o644,
        ),
        ("REVISION", format!("{}\n", commit.sha), 0o644),
    ];
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    let mtime = u64::try_from(commit.date).unwrap_or(0);
    for directory in ["", "bin/"] {
        append(
            &mut builder,
            &format!("{top}/{directory}"),
            b"",
            0o755,
            tar::EntryType::Directory,
            mtime,
        );
    }
    for (path, content, mode) in files {
        append(
            &mut builder,
            &format!("{top}/{path}"),
            content.as_bytes(),
            mode,
            tar::EntryType::Regular,
            mtime,
        );
    }
    let mut encoder = builder.into_inner().expect("a tarball builds in memory");
    encoder.flush().expect("gzip flushes to memory");
    encoder.finish().expect("gzip finishes in memory")
}

fn append(
    builder: &mut tar::Builder<GzEncoder<Vec<u8>>>,
    path: &str,
    content: &[u8],
    mode: u32,
    kind: tar::EntryType,
    mtime: u64,
) {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(content.len() as u64);
    header.set_mtime(mtime);
    builder
        .append_data(&mut header, path, content)
        .expect("a tarball builds in memory");
}
