-- The deploy queue (`/h deploy ... queue`, the Queue it button): a deploy into a busy
-- app waits as a `queued` row. `queue_if_busy` says the requester asked to wait rather
-- than be refused; `queued_at` (Unix ms, set once) orders each app's line, first come
-- first served; the app's deploy lock (app_locks' primary key) makes taking a turn
-- atomic across processes.
ALTER TABLE deploys ADD COLUMN queue_if_busy BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deploys ADD COLUMN queued_at BIGINT;

-- Each app's line, in order.
CREATE INDEX deploys_queued ON deploys (app_id, queued_at, id) WHERE state = 'queued';
