ALTER TABLE services ADD COLUMN refreshed_at TIMESTAMP;
ALTER TABLE services ADD COLUMN next_refresh_at TIMESTAMP;
ALTER TABLE services ADD COLUMN refresh_error TEXT NOT NULL DEFAULT '';
