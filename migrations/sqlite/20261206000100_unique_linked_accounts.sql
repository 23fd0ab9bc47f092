-- One Heroku account and one GitHub account belong to at most one Slack user of a
-- workspace: a second person linking the same account is refused, never overwrites.
-- Before this, a link opened by someone else could tie one account to two people;
-- which of them it really belongs to cannot be told, so such an account is unlinked
-- from every row holding it, and each person is asked to link again.
UPDATE users SET heroku_user_id = NULL, heroku_email = NULL, heroku_access_token = NULL,
    heroku_refresh_token = NULL, heroku_expires_at = NULL
WHERE EXISTS (
    SELECT 1 FROM users other
    WHERE other.team_id = users.team_id AND other.heroku_user_id = users.heroku_user_id
      AND other.user_id <> users.user_id
);
UPDATE users SET github_user_id = NULL, github_login = NULL, github_token = NULL
WHERE EXISTS (
    SELECT 1 FROM users other
    WHERE other.team_id = users.team_id AND other.github_user_id = users.github_user_id
      AND other.user_id <> users.user_id
);
-- NULLs (nothing linked) are distinct from each other in a unique index, on both
-- backends.
CREATE UNIQUE INDEX users_heroku_account ON users (team_id, heroku_user_id);
CREATE UNIQUE INDEX users_github_account ON users (team_id, github_user_id);
