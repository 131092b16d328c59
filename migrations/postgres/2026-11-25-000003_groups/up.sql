ALTER TABLE users ADD COLUMN locked BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE groups (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_id_idx ON group_members (user_id);
CREATE TABLE group_services (
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, service_id)
);
CREATE INDEX group_services_service_id_idx ON group_services (service_id);
