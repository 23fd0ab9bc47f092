-- Sticky locks set with /h lock: deploys, promotions and rollbacks into the stage (or
-- one app of it, app_name; '' is the whole stage) are refused until it is unlocked or
-- expires. Times are Unix milliseconds, like deploys'.
CREATE TABLE stage_locks (
    team_id TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    stage TEXT NOT NULL,
    app_name TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    -- Where it was locked: the expiry notice goes there.
    channel_id TEXT NOT NULL,
    reason TEXT,
    since BIGINT NOT NULL,
    expires_at BIGINT,
    PRIMARY KEY (team_id, pipeline, stage, app_name)
);
CREATE INDEX stage_locks_expiry ON stage_locks (expires_at);

-- Every lock, unlock and expiry: the lock half of /h history's audit trail.
CREATE TABLE lock_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    stage TEXT NOT NULL,
    app_name TEXT NOT NULL,
    -- locked | unlocked | expired
    action TEXT NOT NULL,
    -- Who acted; NULL for an expiry.
    actor_id TEXT,
    owner_id TEXT NOT NULL,
    reason TEXT,
    expires_at BIGINT,
    forced BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX lock_events_pipeline ON lock_events (team_id, pipeline, at);
