//! The real third-party clients (Python: PyGithub, slack_sdk, heroku3) that the fakes
//! and the bot are checked with in tests: a virtualenv made once from the pinned
//! `tests/clients/requirements.txt`, and running one of `tests/clients/*.py` in it.
//!
//! The virtualenv is named by the hash of the pins (a change of pins makes a new one)
//! and made once: one at a time within a process, and into a scratch directory that
//! is renamed into place when finished, so a concurrent test binary either finds a
//! finished one or makes its own and loses the rename harmlessly. A machine needs only
//! `python3` and the package registry.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

/// Where the client scripts and their pins live.
pub const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients");

/// The virtualenv's python under `root` (a test's `CARGO_TARGET_TMPDIR`), making the
/// virtualenv first if no finished one is there. Blocking.
pub fn python(root: &Path) -> anyhow::Result<PathBuf> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let requirements = Path::new(SCRIPTS).join("requirements.txt");
    let pins = std::fs::read(&requirements).context("reading the clients' pins")?;
    let hash = hex::encode(Sha256::digest(&pins));
    let dir = root.join(format!("clients-venv-{}", &hash[..12]));
    let python = dir.join("bin/python");
    if python.exists() {
        return Ok(python);
    }
    let scratch = root.join(format!(
        "clients-venv-{}.{}",
        &hash[..12],
        std::process::id()
    ));
    // Left by an interrupted run of a process with the same id: started over.
    let _ = std::fs::remove_dir_all(&scratch);
    run(Command::new("python3").args(["-m", "venv"]).arg(&scratch))?;
    let mut pip = Command::new(scratch.join("bin/python"));
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-r",
    ])
    .arg(&requirements);
    run(&mut pip)?;
    // Only `bin/python` is used afterwards, which finds its venv wherever it lies.
    if std::fs::rename(&scratch, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    if !python.exists() {
        bail!("no virtualenv at {} after making one", dir.display());
    }
    Ok(python)
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
