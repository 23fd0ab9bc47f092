-- Slack signatures already accepted, kept for the 5-minute window to refuse replays.
CREATE TABLE seen_signatures (
    signature TEXT PRIMARY KEY NOT NULL,
    seen_at BIGINT NOT NULL
);
CREATE INDEX seen_signatures_seen_at ON seen_signatures (seen_at);

-- Every verified /h command: the start of the audit trail.
CREATE TABLE commands (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    text TEXT NOT NULL,
    parsed TEXT,
    error TEXT,
    received_at BIGINT NOT NULL
);
CREATE INDEX commands_team ON commands (team_id, id);
