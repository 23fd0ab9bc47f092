//! The `/h` grammar against its declarative source: every `[[example]]` in
//! `commands/*.toml` must parse to its `parsed` table, every `[[reject]]` must fail with
//! its exact message, and the help texts must cover every command.

use std::fs;
use std::path::{Path, PathBuf};

use chatops::command::{Command, CommandSpec, help_for, help_index, parse, specs};

/// The spec files as they are on disk, by file name, each with its path.
fn disk_specs() -> Vec<(PathBuf, CommandSpec)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("commands");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("commands/ is readable")
        .map(|entry| entry.expect("commands/ lists").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).expect("spec file is readable");
            let spec =
                toml::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            (path, spec)
        })
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Fails once, listing every problem, so one run shows all that is wrong.
fn assert_none(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} failures:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// What is wrong with one `[[example]]`, if anything.
fn check_example(spec: &CommandSpec, text: &str, parsed: &toml::Table) -> Option<String> {
    let expected: Command = match toml::Value::Table(parsed.clone()).try_into() {
        Ok(command) => command,
        Err(error) => return Some(format!("`parsed` is not a Command: {error}")),
    };
    let command = match parse(text) {
        Ok(command) => command,
        Err(error) => return Some(format!("expected {expected:?}\n  got the error: {error}")),
    };
    if command != expected {
        return Some(format!("expected {expected:?}\n  got      {command:?}"));
    }
    // The table must also be spelt exactly as a Command serializes, so it documents the shape.
    let serialized = toml::Value::try_from(&command).expect("a Command serializes to TOML");
    if serialized != toml::Value::Table(parsed.clone()) {
        return Some(format!(
            "`parsed` is not spelt as the Command serializes: {serialized}"
        ));
    }
    (command.name() != spec.name)
        .then(|| format!("parses to `{}`, not `{}`", command.name(), spec.name))
}

#[test]
fn examples_parse_to_their_commands() {
    let mut failures = Vec::new();
    for (path, spec) in disk_specs() {
        for example in &spec.examples {
            if let Some(failure) = check_example(&spec, &example.text, &example.parsed) {
                failures.push(format!(
                    "{}: {:?}\n  {failure}",
                    file_name(&path),
                    example.text
                ));
            }
        }
    }
    assert_none(&failures);
}

#[test]
fn rejects_fail_with_their_exact_message() {
    let mut failures = Vec::new();
    for (path, spec) in disk_specs() {
        for reject in &spec.rejects {
            let problem = match parse(&reject.text) {
                Ok(command) => format!("parsed to {command:?}"),
                Err(error) if error.to_string() == reject.error => continue,
                Err(error) => format!("expected the error:\n{}\n  got:\n{error}", reject.error),
            };
            failures.push(format!(
                "{}: {:?}\n  {problem}",
                file_name(&path),
                reject.text
            ));
        }
    }
    assert_none(&failures);
}

#[test]
fn every_spec_is_complete_and_named_after_its_file() {
    let mut failures = Vec::new();
    for (path, spec) in disk_specs() {
        let file = file_name(&path);
        if file != format!("{}.toml", spec.name) {
            failures.push(format!("{file}: declares name = {:?}", spec.name));
        }
        if spec.usage.is_empty()
            || spec
                .usage
                .iter()
                .any(|line| !line.starts_with(&format!("/h {}", spec.name)))
        {
            failures.push(format!(
                "{file}: every usage line must start with `/h {}`",
                spec.name
            ));
        }
        if !spec.examples.iter().any(|example| example.in_help) {
            failures.push(format!(
                "{file}: needs an example shown in help (the first is used in errors)"
            ));
        }
        if spec.rejects.is_empty() {
            failures.push(format!("{file}: needs at least one [[reject]]"));
        }
    }
    assert_none(&failures);
}

#[test]
fn embedded_specs_are_the_files_on_disk() {
    let disk: Vec<CommandSpec> = disk_specs().into_iter().map(|(_, spec)| spec).collect();
    assert_eq!(
        specs(),
        disk.as_slice(),
        "build.rs embeds every commands/*.toml, in name order"
    );
}

/// Exhaustive on purpose: a new `Command` variant stops this compiling until it is
/// listed here, and `every_command_has_a_spec_with_examples` then fails until some
/// `commands/*.toml` example parses to it.
fn variant_index(command: &Command) -> usize {
    match command {
        Command::Deploy { .. } => 0,
        Command::Promote { .. } => 1,
        Command::Login => 2,
        Command::Logout => 3,
        Command::Whoami => 4,
        Command::Pipelines => 5,
        Command::Info { .. } => 6,
        Command::Releases { .. } => 7,
        Command::Route { .. } => 8,
        Command::Rollback { .. } => 9,
        Command::Lock { .. } => 10,
        Command::Unlock { .. } => 11,
        Command::History { .. } => 12,
        Command::Connect { .. } => 13,
        Command::Doctor { .. } => 14,
        Command::Help { .. } => 15,
        Command::Queue { .. } => 16,
        Command::Dequeue { .. } => 17,
    }
}
const VARIANTS: usize = 18;

#[test]
fn every_command_has_a_spec_with_examples() {
    let mut seen = [false; VARIANTS];
    for spec in specs() {
        let parsed: Vec<Command> = spec
            .examples
            .iter()
            .filter_map(|example| parse(&example.text).ok())
            .collect();
        assert!(
            parsed.iter().any(|command| command.name() == spec.name),
            "commands/{}.toml: no example parses to `{}`: is there a parser for it?",
            spec.name,
            spec.name
        );
        for command in &parsed {
            seen[variant_index(command)] = true;
        }
    }
    let missing: Vec<usize> = (0..VARIANTS).filter(|&index| !seen[index]).collect();
    assert!(
        missing.is_empty(),
        "Command variants {missing:?} (see variant_index) have no spec example"
    );
}

#[test]
fn help_index_lists_every_command() {
    let index = help_index();
    for spec in specs() {
        let line = index
            .lines()
            .find(|line| line.starts_with(&format!("`/h {}` — ", spec.name)));
        let line = line.unwrap_or_else(|| panic!("help index has no line for {}", spec.name));
        assert!(line.contains(&spec.summary), "{line}");
        assert_eq!(line.ends_with("_(extension)_"), spec.extension, "{line}");
    }
}

#[test]
fn help_for_every_command_shows_its_usage_and_examples() {
    for spec in specs() {
        let help =
            help_for(&spec.name).unwrap_or_else(|error| panic!("help {}: {error}", spec.name));
        for line in &spec.usage {
            assert!(
                help.contains(&format!("`{line}`")),
                "help {} lacks {line}",
                spec.name
            );
        }
        for example in spec.examples.iter().filter(|example| example.in_help) {
            assert!(
                help.contains(&format!("`/h {}`", example.text)),
                "help {} lacks {}",
                spec.name,
                example.text
            );
        }
        assert_eq!(
            help_for(&spec.name.to_uppercase()),
            Ok(help.clone()),
            "topics ignore case"
        );
    }
}

#[test]
fn help_for_an_unknown_topic_suggests_one() {
    let error = help_for("deplyo").expect_err("not a command");
    assert_eq!(
        error.to_string(),
        "`deplyo` is not a /h command. Did you mean `deploy`?\nRun `/h help` to see every command."
    );
    assert_eq!(
        help_for("  "),
        Ok(help_index()),
        "a blank topic is the index"
    );
}

#[test]
fn help_index_snapshot() {
    assert_eq!(help_index(), HELP_INDEX);
}

#[test]
fn help_for_deploy_snapshot() {
    assert_eq!(help_for("deploy").as_deref(), Ok(HELP_DEPLOY));
}

/// What `/h help` shows, verbatim: change it on purpose, not to make the test pass.
const HELP_INDEX: &str = "\
*Commands* (type `/h <command>`)
`/h deploy` — Build a branch and release it to a pipeline stage.
`/h help` — List the commands, or explain one.
`/h info` — Show a pipeline's apps, repository and latest releases.
`/h login` — Link your Heroku and GitHub accounts, or check that they are linked.
`/h pipelines` — List the pipelines you can deploy.
`/h promote` — Promote a stage's release to the next stage (production by default).
`/h releases` — Show a pipeline's recent releases, in production or another stage.
`/h route` — Send a pipeline's notifications to a channel, or list what comes here.
`/h connect` — Set the GitHub repository a pipeline deploys from. _(extension)_
`/h dequeue` — Take your own queued deploys out of line. _(extension)_
`/h doctor` — Check your account links and a pipeline's setup. _(extension)_
`/h history` — Show what was deployed, promoted, rolled back or locked from Slack. _(extension)_
`/h lock` — Stop deploys, promotions and rollbacks to a stage. _(extension)_
`/h logout` — Unlink your Heroku and GitHub accounts and delete their tokens. _(extension)_
`/h queue` — Show the deploys waiting in line for a pipeline's apps. _(extension)_
`/h rollback` — Roll an app back to its previous release, or to a version. _(extension)_
`/h unlock` — Remove your lock on a stage; `unlock!` removes anyone's. _(extension)_
`/h whoami` — Show which Heroku and GitHub accounts you are linked to. _(extension)_
Open the bot's *Home* tab in Slack for your pipelines at a glance: what each stage runs, locks, running deploys, and Deploy and Promote buttons. _(extension)_
Run `/h help <command>` for its usage and examples, like `/h help deploy`.";

/// What `/h help deploy` shows, verbatim.
const HELP_DEPLOY: &str = "\
`/h deploy` — Build a branch and release it to a pipeline stage.
*Usage*
`/h deploy[!] <pipeline>[/<branch>] [to <stage>[/<app>]] [queue] [<2fa code>]`
Builds the branch from the GitHub repository connected to the pipeline and releases it to the app in that stage. Progress is posted in a thread under the deploy message.
• Without a branch, the repository's default branch is deployed. Everything after the first `/` is the branch, so `paipu/feature/x` deploys `feature/x`.
• Without a stage, the pipeline's default stage is used. Stages are `review`, `development`, `staging` and `production` (or `dev`, `stg`, `prod`). When a stage has several apps, name one: `staging/app2`. `in` and `on` work like `to`.
• The commit's GitHub status checks must pass first. `deploy!` skips them, and the deploy is recorded as forced.
• For an app protected by Heroku two-factor authentication, end with a current 6-digit code or a YubiKey touch.
• When another deploy or a lock holds the app, the deploy is refused with who holds it; `queue` (an extension) waits in line instead, and starts with the branch's head when its turn comes. See `/h help queue`.
*Examples*
`/h deploy paipu to staging`
`/h deploy paipu/feature-x to staging/app2`
`/h deploy! paipu to production`
`/h deploy paipu to production 123456`
`/h deploy paipu`
`/h deploy paipu/feature-x to staging queue`";
