-- Linked accounts, one row per Slack user of a workspace. Every token column holds a
-- value sealed by the token vault (AES-256-GCM), never a token in clear.
CREATE TABLE users (
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    heroku_user_id TEXT,
    heroku_email TEXT,
    heroku_access_token TEXT,
    heroku_refresh_token TEXT,
    heroku_expires_at BIGINT,
    github_user_id BIGINT,
    github_login TEXT,
    github_token TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);

-- OAuth `state` values handed out, stored as their SHA-256 so a dump cannot replay
-- them. Single-use (used_at) and short-lived (expires_at). team_id and user_id are
-- NULL for a workspace install; response_url is sealed.
CREATE TABLE oauth_states (
    state_hash TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL,
    team_id TEXT,
    user_id TEXT,
    channel_id TEXT,
    response_url TEXT,
    pending_command TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX oauth_states_expires_at ON oauth_states (expires_at);

-- Workspaces that installed the app through OAuth v2, with their sealed bot token.
CREATE TABLE workspaces (
    team_id TEXT PRIMARY KEY NOT NULL,
    team_name TEXT,
    bot_token TEXT NOT NULL,
    bot_user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    installer_user_id TEXT NOT NULL,
    installed_at BIGINT NOT NULL
);
