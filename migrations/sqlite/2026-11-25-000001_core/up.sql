CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    mobile TEXT NOT NULL DEFAULT '',
    organization TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT 'user',
    password_hash TEXT,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    last_login_at TIMESTAMP,
    previous_login_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE services (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    entity_id TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    metadata_xml TEXT NOT NULL,
    metadata_url TEXT,
    nameid_format TEXT NOT NULL DEFAULT 'email',
    default_relay_state TEXT NOT NULL DEFAULT '',
    sign_response BOOLEAN NOT NULL DEFAULT TRUE,
    sign_assertion BOOLEAN NOT NULL DEFAULT TRUE,
    session_minutes INTEGER NOT NULL DEFAULT 480,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    authn_requests_signed BOOLEAN NOT NULL DEFAULT FALSE,
    signing_certs TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE service_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    binding TEXT NOT NULL,
    location TEXT NOT NULL,
    idx INTEGER NOT NULL,
    is_default BOOLEAN
);
CREATE TABLE service_users (
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (service_id, user_id)
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    authn_instant TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE TABLE session_services (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    session_index TEXT NOT NULL,
    name_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE pending_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    request_id TEXT NOT NULL,
    acs_url TEXT NOT NULL,
    relay_state TEXT,
    force_authn BOOLEAN NOT NULL,
    is_passive BOOLEAN NOT NULL,
    name_id_format TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE TABLE used_request_ids (
    issuer TEXT NOT NULL,
    request_id TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, request_id)
);
CREATE TABLE signing_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slot TEXT NOT NULL UNIQUE,
    private_key_pem TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE instance_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX session_services_session_id_idx ON session_services (session_id);
CREATE INDEX service_users_user_id_idx ON service_users (user_id);
CREATE INDEX service_endpoints_service_id_idx ON service_endpoints (service_id);
CREATE INDEX used_request_ids_expires_at_idx ON used_request_ids (expires_at);
CREATE INDEX pending_requests_expires_at_idx ON pending_requests (expires_at);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
