-- What an app ran before a deploy, promotion or rollback changed it: the commit of
-- its release then (`replaced_version`, now read for every kind), when the slug says.
-- Both are written once, before anything is created, so the release notes of a step
-- repeated after a crash compare with what ran before, not with what it just shipped.
ALTER TABLE deploys ADD COLUMN replaced_sha TEXT;
