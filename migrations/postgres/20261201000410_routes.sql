-- Which channel a pipeline's notifications go to (/h route). `channel` is what
-- chat.postMessage takes: an id, or `#name` when only a name was typed. Times are
-- Unix milliseconds.
CREATE TABLE pipeline_routes (
    team_id TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    channel TEXT NOT NULL,
    -- How to show it: `<#C123>` or `#deploys`.
    label TEXT NOT NULL,
    -- Whose tokens read the pipeline's releases for the polling fallback.
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, pipeline)
);

-- The apps of routed pipelines, so a signed webhook (which names only the app) finds
-- its pipeline. Refreshed from the couplings by the release poller.
CREATE TABLE routed_apps (
    app_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    app_name TEXT NOT NULL,
    PRIMARY KEY (app_id, team_id)
);

-- Releases already announced: the primary key makes announcing exactly-once across
-- the webhook, the poller and several processes.
CREATE TABLE release_announcements (
    team_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    announced_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, app_id, version)
);

-- Finds where a routed copy of a deploy's parent went, so its updates follow it.
CREATE INDEX outbox_thread_kind ON outbox (thread_key, kind);
