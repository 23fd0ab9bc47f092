-- Promotions and rollbacks are deploys of other kinds: the same row, lease, outbox
-- and thread, one state machine. Times are Unix milliseconds.
ALTER TABLE deploys ADD COLUMN kind TEXT NOT NULL DEFAULT 'deploy';
-- promote: the stage (and app) copied from, as asked and then as resolved.
ALTER TABLE deploys ADD COLUMN source_stage TEXT;
ALTER TABLE deploys ADD COLUMN source_app TEXT;
-- promote: the source release's version; rollback: the version restored (asked or
-- resolved), fixed before anything is created.
ALTER TABLE deploys ADD COLUMN source_version BIGINT;
-- rollback: the version that was current before, so a repeated step recognises the
-- rollback release an interrupted one created (newer than this, "Rollback to vN").
ALTER TABLE deploys ADD COLUMN replaced_version BIGINT;
-- promote: Heroku's promotion id, once created.
ALTER TABLE deploys ADD COLUMN promotion_id TEXT;
-- Production confirmation: pressed Deploy (1), and until when the button works.
ALTER TABLE deploys ADD COLUMN confirmed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deploys ADD COLUMN confirm_expires_at BIGINT;

-- One row per target app of a promotion: releasing -> restarting -> promoted (or
-- failed). `previous_version` is what the app ran when the promotion was planned: a
-- newer release described as the promotion's is the one an interrupted step created.
CREATE TABLE deploy_targets (
    deploy_id BIGINT NOT NULL,
    app_id TEXT NOT NULL,
    app_name TEXT NOT NULL,
    state TEXT NOT NULL,
    previous_version BIGINT NOT NULL,
    release_id TEXT,
    failure TEXT,
    PRIMARY KEY (deploy_id, app_id)
);
