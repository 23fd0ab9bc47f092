-- When a promotion's launch last asked Heroku for it, written before the request
-- goes out: Heroku lists no promotions, and a promotion's releases appear only a
-- little after it is created, so a launch that finds none of them but sees a recent
-- request waits for them instead of asking twice.
ALTER TABLE deploys ADD COLUMN promotion_requested_at BIGINT;
