-- Who opened the bot's App Home tab, and when its view was last published: a change
-- (a deploy moving, a lock taken or released) republishes the Home of everyone who
-- opened it in the last hour. `wanted_at` is set while a publish is owed (an opening,
-- a change); `tried_at` is the last publish started, which debounces the next one.
-- Times are Unix milliseconds, like deploys'.
CREATE TABLE home_tabs (
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    wanted_at BIGINT,
    tried_at BIGINT,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX home_tabs_opened ON home_tabs (opened_at);
