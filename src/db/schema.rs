// The database schema, portable types only; both migration folders produce it.

diesel::table! {
    users (id) {
        id -> Integer,
        username -> Text,
        email -> Text,
        display_name -> Text,
        phone -> Text,
        mobile -> Text,
        organization -> Text,
        department -> Text,
        role -> Text,
        password_hash -> Nullable<Text>,
        must_change_password -> Bool,
        disabled -> Bool,
        last_login_at -> Nullable<Timestamp>,
        previous_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        locked -> Bool,
        failed_logins -> Integer,
        auto_locked_at -> Nullable<Timestamp>,
        mfa_required -> Bool,
        sms_mfa -> Bool,
    }
}

diesel::table! {
    services (id) {
        id -> Integer,
        entity_id -> Text,
        display_name -> Text,
        description -> Text,
        metadata_xml -> Text,
        metadata_url -> Nullable<Text>,
        nameid_format -> Text,
        default_relay_state -> Text,
        sign_response -> Bool,
        sign_assertion -> Bool,
        session_minutes -> Integer,
        enabled -> Bool,
        authn_requests_signed -> Bool,
        signing_certs -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        refreshed_at -> Nullable<Timestamp>,
        next_refresh_at -> Nullable<Timestamp>,
        refresh_error -> Text,
        attribute_release -> Text,
        icon_type -> Text,
        icon -> Nullable<Binary>,
        mfa_required -> Bool,
    }
}

diesel::table! {
    service_endpoints (id) {
        id -> Integer,
        service_id -> Integer,
        binding -> Text,
        location -> Text,
        idx -> Integer,
        is_default -> Nullable<Bool>,
    }
}

diesel::table! {
    service_users (service_id, user_id) {
        service_id -> Integer,
        user_id -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Integer,
        token_hash -> Text,
        user_id -> Integer,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        authn_instant -> Timestamp,
        expires_at -> Timestamp,
        ip -> Text,
        user_agent -> Text,
        stage -> Text,
        mfa_at -> Nullable<Timestamp>,
        mfa_method -> Text,
    }
}

diesel::table! {
    session_services (id) {
        id -> Integer,
        session_id -> Integer,
        service_id -> Integer,
        session_index -> Text,
        name_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pending_requests (id) {
        id -> Integer,
        token_hash -> Text,
        service_id -> Integer,
        request_id -> Text,
        acs_url -> Text,
        relay_state -> Nullable<Text>,
        force_authn -> Bool,
        is_passive -> Bool,
        name_id_format -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        requested_context -> Text,
    }
}

diesel::table! {
    used_request_ids (issuer, request_id) {
        issuer -> Text,
        request_id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    signing_keys (id) {
        id -> Integer,
        slot -> Text,
        private_key_pem -> Text,
        certificate_pem -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    instance_secrets (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    groups (id) {
        id -> Integer,
        name -> Text,
        created_at -> Timestamp,
        mfa_required -> Bool,
    }
}

diesel::table! {
    group_members (group_id, user_id) {
        group_id -> Integer,
        user_id -> Integer,
    }
}

diesel::table! {
    group_services (group_id, service_id) {
        group_id -> Integer,
        service_id -> Integer,
    }
}

diesel::table! {
    contract_settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    totp_factors (user_id) {
        user_id -> Integer,
        secret -> Text,
        confirmed -> Bool,
        last_step -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Integer,
        user_id -> Integer,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sms_codes (id) {
        id -> Integer,
        user_id -> Integer,
        session_id -> Integer,
        purpose -> Text,
        mobile -> Text,
        code_hash -> Text,
        attempts -> Integer,
        sends -> Integer,
        created_at -> Timestamp,
        sent_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    login_throttle (bucket) {
        bucket -> Text,
        window_start -> Timestamp,
        hits -> Integer,
    }
}

diesel::table! {
    security_settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::joinable!(group_members -> groups (group_id));
diesel::joinable!(group_members -> users (user_id));
diesel::joinable!(group_services -> groups (group_id));
diesel::joinable!(group_services -> services (service_id));
diesel::joinable!(service_endpoints -> services (service_id));
diesel::joinable!(service_users -> services (service_id));
diesel::joinable!(service_users -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(session_services -> sessions (session_id));
diesel::joinable!(session_services -> services (service_id));
diesel::joinable!(pending_requests -> services (service_id));
diesel::joinable!(totp_factors -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(sms_codes -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    services,
    service_endpoints,
    service_users,
    sessions,
    session_services,
    pending_requests,
    used_request_ids,
    signing_keys,
    instance_secrets,
    audit_events,
    groups,
    group_members,
    group_services,
    contract_settings,
    totp_factors,
    recovery_codes,
    sms_codes,
    login_throttle,
    security_settings,
);

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        at -> Timestamp,
        kind -> Text,
        actor -> Text,
        subject -> Text,
        service -> Text,
        ip -> Text,
        detail -> Text,
    }
}
