-- Which key each app's Heroku webhook secret was registered under (an id derived
-- from it, never the key), so `chatops rekey` re-registers each webhook once per key.
CREATE TABLE webhook_keys (
    app_id TEXT PRIMARY KEY NOT NULL,
    key_id TEXT NOT NULL,
    registered_at BIGINT NOT NULL
);
