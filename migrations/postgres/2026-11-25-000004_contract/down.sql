DROP TABLE contract_settings;
