//! Table definitions shared by both backends: portable types only.

diesel::table! {
    consent_texts (version) {
        version -> Text,
        body -> Text,
        first_used_at -> Timestamp,
    }
}

diesel::table! {
    registrations (id) {
        id -> Text,
        email -> Text,
        email_key -> Text,
        name -> Text,
        organisation -> Nullable<Text>,
        org_type -> Nullable<Text>,
        country -> Nullable<Text>,
        timezone -> Nullable<Text>,
        interests -> Text,
        status -> Text,
        source -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_signup_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        confirmed_via -> Nullable<Text>,
        confirm_ip -> Nullable<Text>,
        confirm_user_agent -> Nullable<Text>,
        unsubscribed_at -> Nullable<Timestamp>,
        last_email_at -> Nullable<Timestamp>,
        code_failures -> Integer,
        unsubscribe_reason -> Nullable<Text>,
    }
}

diesel::table! {
    consents (id) {
        id -> Text,
        registration_id -> Text,
        given_at -> Timestamp,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        text_version -> Text,
        source -> Text,
    }
}

diesel::table! {
    tokens (id) {
        id -> Text,
        registration_id -> Text,
        purpose -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        registration_id -> Nullable<Text>,
        kind -> Text,
        token_id -> Nullable<Text>,
        unsubscribe_token_id -> Nullable<Text>,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        leased_until -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        organiser_id -> Nullable<Text>,
        test_address -> Nullable<Text>,
        announcement_id -> Nullable<Text>,
        notice -> Nullable<Text>,
        requested_by -> Nullable<Text>,
        digest_key -> Nullable<Text>,
        window_from -> Nullable<Timestamp>,
        window_to -> Nullable<Timestamp>,
    }
}

diesel::table! {
    delivery_attempts (id) {
        id -> Text,
        outbox_id -> Text,
        attempted_at -> Timestamp,
        worker -> Text,
        result -> Text,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    ledger (id) {
        id -> Text,
        registration_id -> Text,
        event -> Text,
        at -> Timestamp,
        actor -> Text,
        consent_text_version -> Nullable<Text>,
        source -> Nullable<Text>,
    }
}

diesel::table! {
    suppressions (email_hash) {
        email_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    signup_attempts (id) {
        id -> Text,
        registration_id -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    address_requests (email_hash) {
        email_hash -> Text,
        last_request_at -> Timestamp,
        last_email_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    code_attempts (cookie_hash) {
        cookie_hash -> Text,
        attempts -> Integer,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    confirmation_details (token_id) {
        token_id -> Text,
        email -> Text,
        name -> Text,
        organisation -> Nullable<Text>,
        org_type -> Nullable<Text>,
        country -> Nullable<Text>,
        timezone -> Nullable<Text>,
        interests -> Text,
        source -> Text,
        signed_up_at -> Timestamp,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        text_version -> Text,
        consent_id -> Nullable<Text>,
    }
}

diesel::joinable!(consents -> registrations (registration_id));
diesel::joinable!(tokens -> registrations (registration_id));
diesel::joinable!(outbox -> registrations (registration_id));
diesel::joinable!(delivery_attempts -> outbox (outbox_id));

diesel::allow_tables_to_appear_in_same_query!(
    consent_texts,
    registrations,
    consents,
    tokens,
    outbox,
    delivery_attempts,
    ledger,
    suppressions,
    signup_attempts,
    address_requests,
    code_attempts,
    confirmation_details,
);

diesel::table! {
    organisers (id) {
        id -> Text,
        email -> Text,
        email_key -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        digest -> Text,
    }
}

diesel::table! {
    organiser_tokens (id) {
        id -> Text,
        organiser_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        organiser_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    exports (id) {
        id -> Text,
        actor -> Text,
        started_at -> Timestamp,
        filter -> Text,
        row_count -> BigInt,
        outcome -> Text,
    }
}

diesel::joinable!(organiser_tokens -> organisers (organiser_id));
diesel::joinable!(sessions -> organisers (organiser_id));
diesel::allow_tables_to_appear_in_same_query!(organisers, organiser_tokens, sessions, exports);

diesel::table! {
    announcements (id) {
        id -> Text,
        subject -> Text,
        body -> Text,
        audience -> Text,
        archive -> Bool,
        status -> Text,
        status_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        scheduled_at -> Nullable<Timestamp>,
        started_at -> Nullable<Timestamp>,
        resumed_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    send_counters (bucket) {
        bucket -> Text,
        admitted -> Integer,
    }
}

diesel::table! {
    relay_status (id) {
        id -> Integer,
        failing_since -> Nullable<Timestamp>,
        last_failure_at -> Nullable<Timestamp>,
        stage -> Nullable<Text>,
        last_error -> Nullable<Text>,
        refused_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(outbox -> announcements (announcement_id));
diesel::joinable!(outbox -> organisers (organiser_id));
diesel::allow_tables_to_appear_in_same_query!(announcements, outbox);
diesel::allow_tables_to_appear_in_same_query!(announcements, registrations);
diesel::allow_tables_to_appear_in_same_query!(announcements, delivery_attempts);
diesel::allow_tables_to_appear_in_same_query!(announcements, organisers);
diesel::allow_tables_to_appear_in_same_query!(outbox, organisers);

diesel::table! {
    bounces (id) {
        id -> Text,
        registration_id -> Nullable<Text>,
        outbox_id -> Nullable<Text>,
        class -> Text,
        status_code -> Nullable<Text>,
        source -> Text,
        report_key -> Text,
        received_at -> Timestamp,
    }
}

diesel::joinable!(bounces -> registrations (registration_id));
diesel::allow_tables_to_appear_in_same_query!(bounces, registrations);
diesel::allow_tables_to_appear_in_same_query!(bounces, outbox);
diesel::allow_tables_to_appear_in_same_query!(bounces, announcements);

diesel::table! {
    imap_state (id) {
        id -> Integer,
        owner -> Nullable<Text>,
        leased_until -> Nullable<Timestamp>,
        mailbox -> Nullable<Text>,
        uid_validity -> Nullable<BigInt>,
        last_uid -> BigInt,
        next_poll_at -> Nullable<Timestamp>,
        failures -> Integer,
        polled_at -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        last_error_at -> Nullable<Timestamp>,
    }
}
