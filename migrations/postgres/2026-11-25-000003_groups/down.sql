DROP TABLE group_services;
DROP TABLE group_members;
DROP TABLE groups;
ALTER TABLE users DROP COLUMN locked;
