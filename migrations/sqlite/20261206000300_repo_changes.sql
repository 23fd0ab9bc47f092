-- Every /h connect that changed which repository a pipeline builds from: the
-- connection half of /h history's audit trail. previous_repo is NULL for a first
-- connection. Times are Unix milliseconds.
CREATE TABLE repo_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    repo TEXT NOT NULL,
    previous_repo TEXT,
    set_by TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX repo_changes_pipeline ON repo_changes (team_id, pipeline, at);
