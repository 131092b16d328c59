ALTER TABLE services DROP COLUMN refresh_error;
ALTER TABLE services DROP COLUMN next_refresh_at;
ALTER TABLE services DROP COLUMN refreshed_at;
