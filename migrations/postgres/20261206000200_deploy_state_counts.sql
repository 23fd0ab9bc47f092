-- How many deploys are in each state, kept by triggers as rows move, so a metrics
-- scrape reads a handful of rows instead of counting the whole deploys table (which
-- keeps every deploy for /h history) each time.
CREATE TABLE deploy_state_counts (
    state TEXT PRIMARY KEY,
    deploys BIGINT NOT NULL
);

INSERT INTO deploy_state_counts (state, deploys)
    SELECT state, COUNT(*) FROM deploys GROUP BY state;

-- Two transactions moving deploys in opposite directions (requested -> confirming
-- and confirming -> requested) would lock the two count rows in opposite orders and
-- deadlock; both rows are always touched in the order of their state's name.
CREATE FUNCTION count_deploy_states() RETURNS trigger AS $$
DECLARE
    state_name TEXT;
BEGIN
    FOR state_name IN
        SELECT s FROM unnest(ARRAY[
            CASE WHEN TG_OP <> 'INSERT' THEN OLD.state END,
            CASE WHEN TG_OP <> 'DELETE' THEN NEW.state END
        ]) AS s WHERE s IS NOT NULL ORDER BY s
    LOOP
        IF TG_OP <> 'INSERT' AND state_name = OLD.state THEN
            UPDATE deploy_state_counts SET deploys = deploys - 1 WHERE state = state_name;
        ELSE
            INSERT INTO deploy_state_counts (state, deploys) VALUES (state_name, 1)
                ON CONFLICT (state) DO UPDATE SET deploys = deploy_state_counts.deploys + 1;
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER deploys_counted AFTER INSERT OR DELETE ON deploys
    FOR EACH ROW EXECUTE FUNCTION count_deploy_states();

CREATE TRIGGER deploys_recounted AFTER UPDATE OF state ON deploys
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION count_deploy_states();
