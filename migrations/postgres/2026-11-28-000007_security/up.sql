ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN auto_locked_at TIMESTAMP;
ALTER TABLE users ADD COLUMN mfa_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN sms_mfa BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE groups ADD COLUMN mfa_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE services ADD COLUMN mfa_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE pending_requests ADD COLUMN requested_context TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full';
ALTER TABLE sessions ADD COLUMN mfa_at TIMESTAMP;
ALTER TABLE sessions ADD COLUMN mfa_method TEXT NOT NULL DEFAULT '';
CREATE TABLE totp_factors (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    confirmed BOOLEAN NOT NULL DEFAULT FALSE,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE recovery_codes (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX recovery_codes_user_id_idx ON recovery_codes (user_id);
CREATE TABLE sms_codes (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    mobile TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sends INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sms_codes_session_id_idx ON sms_codes (session_id);
CREATE INDEX sms_codes_user_id_idx ON sms_codes (user_id, sent_at);
CREATE TABLE login_throttle (
    bucket TEXT PRIMARY KEY NOT NULL,
    window_start TIMESTAMP NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE security_settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
