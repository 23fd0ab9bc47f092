//! What the fake's builds and release phases print, per language: the lines a
//! buildpack writes to the output stream, the way a failing build ends, and a release
//! command's migration output.

/// The language (and so the buildpack) of an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Ruby,
    Node,
    Python,
}

impl Language {
    /// The buildpack's registry name.
    pub fn buildpack_name(self) -> &'static str {
        match self {
            Language::Ruby => "heroku/ruby",
            Language::Node => "heroku/nodejs",
            Language::Python => "heroku/python",
        }
    }

    /// The buildpack's source URL.
    pub fn buildpack_url(self) -> &'static str {
        match self {
            Language::Ruby => "https://github.com/heroku/heroku-buildpack-ruby",
            Language::Node => "https://github.com/heroku/heroku-buildpack-nodejs",
            Language::Python => "https://github.com/heroku/heroku-buildpack-python",
        }
    }

    /// What the buildpack says it detected (`buildpack_provided_description`).
    pub fn description(self) -> &'static str {
        match self {
            Language::Ruby => "Ruby",
            Language::Node => "Node.js",
            Language::Python => "Python",
        }
    }

    /// The compile steps, printed one by one while the build runs.
    pub fn compile_lines(self) -> &'static [&'static str] {
        match self {
            Language::Ruby => &[
                "-----> Ruby app detected",
                "-----> Installing bundler 2.5.11",
                "-----> Using Ruby version: ruby-3.3.4",
                "-----> Installing dependencies using bundler 2.5.11",
                "       Running: BUNDLE_WITHOUT='development:test' bundle install -j4",
                "       Bundle complete! 37 Gemfile dependencies, 104 gems now installed.",
                "-----> Preparing app for Rails asset pipeline",
                "       Running: rake assets:precompile",
                "       Asset precompilation completed (3.84s)",
            ],
            Language::Node => &[
                "-----> Node.js app detected",
                "-----> Creating runtime environment",
                "       NPM_CONFIG_LOGLEVEL=error",
                "-----> Installing binaries",
                "       engines.node (package.json):  20.x",
                "       Downloading and installing node 20.15.1...",
                "-----> Installing dependencies",
                "       Installing node modules (package-lock.json)",
                "       added 412 packages, and audited 413 packages in 9s",
                "-----> Build",
                "       Running build",
            ],
            Language::Python => &[
                "-----> Python app detected",
                "-----> Using Python 3.12.4 specified in .python-version",
                "-----> Installing Python 3.12.4",
                "-----> Installing pip 24.1.2",
                "-----> Installing dependencies using 'pip install -r requirements.txt'",
                "       Successfully installed Django-5.0.7 celery-5.4.0 gunicorn-22.0.0",
                "-----> $ python manage.py collectstatic --noinput",
                "       164 static files copied to '/tmp/build_3c4d/staticfiles'.",
            ],
        }
    }

    /// How a failed compile ends.
    pub fn failure_lines(self) -> &'static [&'static str] {
        match self {
            Language::Ruby => &[
                "       Fetching gem metadata from https://rubygems.org/.........",
                "       Could not find gem 'pg (~> 1.6)' in rubygems repository https://rubygems.org/ or installed locally.",
                "       Bundler Output: Could not find gem 'pg (~> 1.6)' in locally installed gems.",
                " !",
                " !     Failed to install gems via Bundler.",
                " !",
                " !     Push rejected, failed to compile Ruby app.",
                " !     Push failed",
            ],
            Language::Node => &[
                "npm ERR! code ERESOLVE",
                "npm ERR! ERESOLVE unable to resolve dependency tree",
                "npm ERR! Could not resolve dependency: peer react@\"^17.0.0\" from react-dom@17.0.2",
                "-----> Build failed",
                " !     Push rejected, failed to compile Node.js app.",
                " !     Push failed",
            ],
            Language::Python => &[
                "       ERROR: Could not find a version that satisfies the requirement psycopg3==3.2.1",
                "       ERROR: No matching distribution found for psycopg3==3.2.1",
                " !     Error: Unable to install dependencies using pip.",
                " !     Push rejected, failed to compile Python app.",
                " !     Push failed",
            ],
        }
    }
}

/// How every build starts, before the source is fetched.
pub const PREAMBLE: &[&str] = &["-----> Building on the Heroku-24 stack"];

/// The end of a successful compile, before the release is known.
pub const PACKAGING: &[&str] = &[
    "-----> Discovering process types",
    "       Procfile declares types -> release, web, worker",
    "-----> Compressing...",
    "       Done: 61.4M",
    "-----> Launching...",
];

/// What a release command prints while it migrates.
pub const MIGRATION_LINES: &[&str] = &[
    "== 20240612093011 AddDeployedShaToReleases: migrating ===========================",
    "-- add_column(:releases, :deployed_sha, :string)",
    "   -> 0.0081s",
    "== 20240612093011 AddDeployedShaToReleases: migrated (0.0082s) ==================",
];

/// How a failing release command ends.
pub const MIGRATION_FAILURE_LINES: &[&str] = &[
    "rake aborted!",
    "StandardError: An error has occurred, this and all later migrations canceled:",
    "PG::DuplicateColumn: ERROR:  column \"deployed_sha\" of relation \"releases\" already exists",
    "Tasks: TOP => db:migrate",
    "(See full trace by running task with --trace)",
];
