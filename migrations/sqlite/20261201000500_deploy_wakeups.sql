-- A webhook that arrives while a deploy's step runs is kept here, so the step's save
-- schedules the next check at once instead of a poll interval later.
ALTER TABLE deploys ADD COLUMN woken_at BIGINT;

-- Webhooks wake the deploys of one app.
CREATE INDEX deploys_running_app ON deploys (app_id) WHERE finished_at IS NULL;
