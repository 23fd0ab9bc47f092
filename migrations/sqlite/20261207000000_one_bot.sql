-- Several processes on one database behave as one bot (issue 16).

-- A message is ready when nothing before it in its thread holds it back: the claim
-- finds the due ready messages by an index, so its cost does not grow with the
-- backlog of messages still waiting their turn. Every change of a thread's pending
-- messages first locks its row in outbox_threads, so two deliverers finishing two
-- messages of one thread at once cannot both miss the message that follows.
ALTER TABLE outbox ADD COLUMN ready BIGINT NOT NULL DEFAULT 0;
UPDATE outbox SET ready = 1 WHERE state = 'pending' AND NOT EXISTS (
    SELECT 1 FROM outbox e WHERE e.thread_key = outbox.thread_key AND e.state = 'pending'
    AND e.id < outbox.id AND (outbox.kind <> 'update' OR e.kind <> 'reply'));
CREATE INDEX outbox_ready ON outbox (next_attempt_at, id) WHERE state = 'pending' AND ready = 1;
CREATE TABLE outbox_threads (
    thread_key TEXT PRIMARY KEY
);

-- Slack's pace, one token bucket per channel (posts) and per workspace (updates),
-- shared by every process (src/slack/pacer.rs).
CREATE TABLE slack_pace (
    bucket TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    refilled_at BIGINT NOT NULL,
    -- The next slot not yet promised to a waiting message.
    free_slot BIGINT NOT NULL
);

-- Periodic sweeps (lock expiry, signature pruning, release polling): the process
-- that moves a sweep's next turn forward runs it; the others skip that turn.
CREATE TABLE sweep_turns (
    sweep TEXT PRIMARY KEY,
    next_turn_at BIGINT NOT NULL
);
