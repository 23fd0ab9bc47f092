-- How many deploys are in each state, kept by triggers as rows move, so a metrics
-- scrape reads a handful of rows instead of counting the whole deploys table (which
-- keeps every deploy for /h history) each time.
CREATE TABLE deploy_state_counts (
    state TEXT PRIMARY KEY,
    deploys BIGINT NOT NULL
);

INSERT INTO deploy_state_counts (state, deploys)
    SELECT state, COUNT(*) FROM deploys GROUP BY state;

CREATE TRIGGER deploys_counted AFTER INSERT ON deploys
BEGIN
    INSERT INTO deploy_state_counts (state, deploys) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET deploys = deploys + 1;
END;

CREATE TRIGGER deploys_recounted AFTER UPDATE OF state ON deploys
WHEN OLD.state <> NEW.state
BEGIN
    UPDATE deploy_state_counts SET deploys = deploys - 1 WHERE state = OLD.state;
    INSERT INTO deploy_state_counts (state, deploys) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET deploys = deploys + 1;
END;

CREATE TRIGGER deploys_uncounted AFTER DELETE ON deploys
BEGIN
    UPDATE deploy_state_counts SET deploys = deploys - 1 WHERE state = OLD.state;
END;
