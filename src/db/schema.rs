//! The tables, written by hand in types both backends share (BigInt ids, Text, Bool, Timestamp).
//! `migrations/sqlite` and `migrations/postgres` create exactly these columns.

diesel::table! {
    /// Accounts: local educators (with a password) and, later, remote people.
    users (id) {
        id -> BigInt,
        name -> Text,
        display_name -> Text,
        password_hash -> Nullable<Text>,
        is_admin -> Bool,
        local -> Bool,
        domain -> Nullable<Text>,
        ap_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        public_key -> Nullable<Text>,
        private_key -> Nullable<Text>,
    }
}

diesel::table! {
    /// Logins (web cookies and API bearer tokens); only a digest of each token is kept.
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        kind -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// Recent failed logins, keyed by account or client address, for throttling.
    login_failures (id) {
        id -> BigInt,
        key -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    /// Forums (ActivityPub `Group`s once federation arrives).
    forums (id) {
        id -> BigInt,
        name -> Text,
        title -> Text,
        description -> Text,
        local -> Bool,
        domain -> Nullable<Text>,
        ap_id -> Nullable<Text>,
        archived -> Bool,
        thread_count -> BigInt,
        post_count -> BigInt,
        last_activity_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        public_key -> Nullable<Text>,
        private_key -> Nullable<Text>,
    }
}

diesel::table! {
    /// The instance's own ActivityPub actor (one row).
    instance_actor (id) {
        id -> BigInt,
        public_key -> Text,
        private_key -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Threads: a title in a forum; the words are in the opening post.
    threads (id) {
        id -> BigInt,
        forum_id -> BigInt,
        author_id -> BigInt,
        title -> Text,
        pinned -> Bool,
        local -> Bool,
        ap_id -> Nullable<Text>,
        reply_count -> BigInt,
        created_at -> Timestamp,
        last_activity_at -> Timestamp,
    }
}

diesel::table! {
    /// Posts: the opening post of each thread and every reply.
    posts (id) {
        id -> BigInt,
        thread_id -> BigInt,
        author_id -> BigInt,
        in_reply_to_id -> Nullable<BigInt>,
        is_opening -> Bool,
        body_markdown -> Text,
        body_html -> Text,
        local -> Bool,
        ap_id -> Nullable<Text>,
        created_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Earlier versions of edited posts.
    post_revisions (id) {
        id -> BigInt,
        post_id -> BigInt,
        title -> Nullable<Text>,
        body_markdown -> Text,
        body_html -> Text,
        written_at -> Timestamp,
        replaced_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(threads -> forums (forum_id));
diesel::joinable!(threads -> users (author_id));
diesel::joinable!(posts -> threads (thread_id));
diesel::joinable!(posts -> users (author_id));
diesel::joinable!(post_revisions -> posts (post_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    login_failures,
    forums,
    threads,
    posts,
    post_revisions,
    instance_actor,
);
