CREATE TABLE contract_settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
