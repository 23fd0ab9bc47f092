//! The real third-party clients (Python: PyGithub, slack_sdk, heroku3) that the fakes
//! and the bot are checked with in tests: a virtualenv made once from the pinned
//! `tests/clients/requirements.txt`, and running one of `tests/clients/*.py` in it.
//!
//! The virtualenv is named by the hash of the pins (a change of pins makes a new one)
//! and made under a file lock, so parallel tests and test binaries share one. A
//! machine needs only `python3` and the package registry.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

/// Where the client scripts and their pins live.
pub const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients");

/// The virtualenv's python under `root` (a test's `CARGO_TARGET_TMPDIR`), making the
/// virtualenv first if no finished one is there. Blocking.
pub fn python(root: &Path) -> anyhow::Result<PathBuf> {
    let requirements = Path::new(SCRIPTS).join("requirements.txt");
    let pins = std::fs::read(&requirements).context("reading the clients' pins")?;
    let hash = hex::encode(Sha256::digest(&pins));
    let dir = root.join(format!("clients-venv-{}", &hash[..12]));
    std::fs::create_dir_all(root).context("making the target's tmp dir")?;
    let lock = File::create(root.join("clients-venv.lock")).context("the venv lock")?;
    lock.lock().context("locking the venv")?;
    let ready = dir.join("ready");
    if !ready.exists() {
        // A half-made one (an interrupted run) is started over.
        let _ = std::fs::remove_dir_all(&dir);
        run(Command::new("python3").args(["-m", "venv"]).arg(&dir))?;
        let mut pip = Command::new(dir.join("bin/pip"));
        pip.args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements);
        run(&mut pip)?;
        std::fs::write(&ready, "").context("marking the venv ready")?;
    }
    Ok(dir.join("bin/python"))
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let output = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?}: {}\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Runs `tests/clients/{script}` with `env` in the virtualenv under `root`; its
/// output, or an error holding the output if it failed.
pub async fn run_script(root: &Path, script: &str, env: &[(&str, &str)]) -> anyhow::Result<String> {
    let root = root.to_owned();
    let python = tokio::task::spawn_blocking(move || python(&root)).await??;
    let output = tokio::process::Command::new(python)
        .arg(Path::new(SCRIPTS).join(script))
        .envs(env.iter().copied())
        .output()
        .await
        .with_context(|| format!("running {script}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        bail!("{script} failed ({}):\n{text}", output.status);
    }
    Ok(text)
}
