-- Which GitHub repository a pipeline builds from (/h connect): the Platform API
-- does not say.
CREATE TABLE pipeline_repos (
    team_id TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    repo TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, pipeline)
);

-- One row per deploy: its stage and every external id, stored before the next step
-- can observe it. Times are Unix milliseconds.
CREATE TABLE deploys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    response_url TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    branch TEXT,
    stage TEXT,
    app_name TEXT,
    forced BIGINT NOT NULL,
    two_factor_code TEXT,
    state TEXT NOT NULL,
    app_id TEXT,
    repo TEXT,
    git_ref TEXT,
    sha TEXT,
    github_deployment_id BIGINT,
    build_id TEXT,
    release_id TEXT,
    failure TEXT,
    created_at BIGINT NOT NULL,
    stage_started_at BIGINT NOT NULL,
    finished_at BIGINT,
    next_check_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT
);
CREATE INDEX deploys_due ON deploys (next_check_at) WHERE finished_at IS NULL;

-- At most one deploy drives an app at a time; the primary key makes taking it atomic.
CREATE TABLE app_locks (
    app_id TEXT PRIMARY KEY,
    deploy_id BIGINT NOT NULL,
    app_name TEXT NOT NULL,
    user_id TEXT NOT NULL,
    sha TEXT NOT NULL,
    since BIGINT NOT NULL
);

-- Slack posts waiting to be sent, in order per thread, retried until delivered.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_key TEXT NOT NULL,
    team_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    -- How often a deliverer took it: above one, an earlier one may have reached Slack.
    claims BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    sent_ts TEXT,
    error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_pending ON outbox (thread_key, id) WHERE state = 'pending';

-- The parent message of each thread once posted: replies and updates need its ts.
CREATE TABLE threads (
    thread_key TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL,
    parent_ts TEXT NOT NULL
);
