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
        inbox_url -> Nullable<Text>,
        shared_inbox_url -> Nullable<Text>,
        profile_url -> Nullable<Text>,
        last_refreshed_at -> Nullable<Timestamp>,
        email -> Nullable<Text>,
        pending -> Bool,
        application -> Nullable<Text>,
        deleted_at -> Nullable<Timestamp>,
        watch_on_post -> Bool,
        email_verified_at -> Nullable<Timestamp>,
        email_mode -> Text,
        last_digest_at -> Nullable<Timestamp>,
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
        inbox_url -> Nullable<Text>,
        shared_inbox_url -> Nullable<Text>,
        outbox_url -> Nullable<Text>,
        profile_url -> Nullable<Text>,
        last_refreshed_at -> Nullable<Timestamp>,
        local_followers -> BigInt,
        visibility -> Text,
        all_accounts_are_members -> Bool,
        posting_restricted_to_mods -> Bool,
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
        locked_at -> Nullable<Timestamp>,
        locked_by_id -> Nullable<BigInt>,
        context_url -> Nullable<Text>,
        context_fetched_at -> Nullable<Timestamp>,
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
        helpful_count -> BigInt,
        removed_at -> Nullable<Timestamp>,
        removed_by_id -> Nullable<BigInt>,
        removal_reason -> Nullable<Text>,
        position -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// "Helpful" marks (ActivityPub `Like`) on posts.
    helpful_marks (id) {
        id -> BigInt,
        post_id -> BigInt,
        user_id -> BigInt,
        like_ap_id -> Text,
        created_at -> Timestamp,
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

diesel::table! {
    /// Who follows which forum (either side may be remote).
    forum_follows (id) {
        id -> BigInt,
        forum_id -> BigInt,
        follower_id -> BigInt,
        pending -> Bool,
        follow_ap_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Who follows which single thread (either side may be remote).
    thread_follows (id) {
        id -> BigInt,
        thread_id -> BigInt,
        follower_id -> BigInt,
        pending -> Bool,
        follow_ap_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Ids of activities received, for deduplication.
    received_activities (id) {
        id -> BigInt,
        ap_id -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    /// What must be told to other servers, written with the change itself.
    outbox_events (id) {
        id -> BigInt,
        event -> Text,
        created_at -> Timestamp,
        expanded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Activities sent by this instance.
    activities (id) {
        id -> BigInt,
        ap_id -> Text,
        kind -> Text,
        signer_user_id -> Nullable<BigInt>,
        signer_forum_id -> Nullable<BigInt>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Other servers, and the state of delivery to each.
    instances (id) {
        id -> BigInt,
        domain -> Text,
        failures -> BigInt,
        next_attempt_at -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        dead -> Bool,
        last_error -> Nullable<Text>,
        last_success_at -> Nullable<Timestamp>,
        last_heard_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        software -> Nullable<Text>,
        software_checked_at -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
    }
}

diesel::table! {
    /// One activity to one inbox, waiting to be sent.
    deliveries (id) {
        id -> BigInt,
        activity_id -> BigInt,
        instance_id -> BigInt,
        inbox_url -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Moderators of forums (administrators moderate every forum without a row here).
    forum_moderators (id) {
        id -> BigInt,
        forum_id -> BigInt,
        user_id -> BigInt,
        appointed_by_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// What moderators did, with why.
    moderation_log (id) {
        id -> BigInt,
        forum_id -> Nullable<BigInt>,
        moderator_id -> Nullable<BigInt>,
        action -> Text,
        thread_id -> Nullable<BigInt>,
        post_id -> Nullable<BigInt>,
        person_id -> Nullable<BigInt>,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// People kept from posting in a forum, or anywhere here (`forum_id` null).
    bans (id) {
        id -> BigInt,
        forum_id -> Nullable<BigInt>,
        user_id -> BigInt,
        banned_by_id -> Nullable<BigInt>,
        reason -> Text,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Posts people asked a forum's moderators to look at.
    reports (id) {
        id -> BigInt,
        post_id -> BigInt,
        forum_id -> BigInt,
        reporter_id -> BigInt,
        reason -> Text,
        ap_id -> Nullable<Text>,
        created_at -> Timestamp,
        outcome -> Nullable<Text>,
        closed_by_id -> Nullable<BigInt>,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// How far each reader has read each thread.
    thread_reads (user_id, thread_id) {
        user_id -> BigInt,
        thread_id -> BigInt,
        posts_read -> BigInt,
        updated_at -> Timestamp,
        watching -> Nullable<Bool>,
    }
}

diesel::table! {
    /// Forums people watch.
    forum_watches (user_id, forum_id) {
        user_id -> BigInt,
        forum_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// What each person is told about: one row per person and post.
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        post_id -> BigInt,
        kind -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        emailed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Single-use links sent by e-mail (address verification, password reset).
    email_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        token_hash -> Text,
        email -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Mail waiting to be sent, and mail sent (for a while).
    mail_outbox (id) {
        id -> BigInt,
        kind -> Text,
        user_id -> Nullable<BigInt>,
        to_address -> Text,
        payload -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Secrets the site keeps for itself.
    site_secrets (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    /// The people each post mentions.
    post_mentions (post_id, user_id) {
        post_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    /// Members of members-only forums.
    forum_members (id) {
        id -> BigInt,
        forum_id -> BigInt,
        user_id -> BigInt,
        added_by_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Single-use invitations to register.
    invites (id) {
        id -> BigInt,
        code_hash -> Text,
        note -> Text,
        created_by_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        used_by_id -> Nullable<BigInt>,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Servers blocked by administrators.
    instance_blocks (id) {
        id -> BigInt,
        domain -> Text,
        reason -> Text,
        created_by_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(threads -> forums (forum_id));
diesel::joinable!(threads -> users (author_id));
diesel::joinable!(posts -> threads (thread_id));
diesel::joinable!(posts -> users (author_id));
diesel::joinable!(post_revisions -> posts (post_id));
diesel::joinable!(forum_follows -> forums (forum_id));
diesel::joinable!(helpful_marks -> posts (post_id));
diesel::table! {
    /// How many posts each person has shown (neither deleted nor removed) in each forum. New
    /// posts are counted by the code that stores them; deletions, removals, restorations and
    /// moved threads by triggers (see the `author_counts` migration).
    author_counts (author_id, forum_id) {
        author_id -> BigInt,
        forum_id -> BigInt,
        threads -> BigInt,
        replies -> BigInt,
    }
}

diesel::joinable!(helpful_marks -> users (user_id));
diesel::joinable!(forum_follows -> users (follower_id));
diesel::joinable!(thread_follows -> threads (thread_id));
diesel::joinable!(thread_follows -> users (follower_id));
diesel::joinable!(deliveries -> activities (activity_id));
diesel::joinable!(deliveries -> instances (instance_id));
diesel::joinable!(forum_moderators -> forums (forum_id));
diesel::joinable!(forum_members -> forums (forum_id));
diesel::joinable!(moderation_log -> forums (forum_id));
diesel::joinable!(notifications -> posts (post_id));
diesel::joinable!(notifications -> users (user_id));
diesel::joinable!(post_mentions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    login_failures,
    forums,
    threads,
    posts,
    post_revisions,
    instance_actor,
    forum_follows,
    thread_follows,
    received_activities,
    outbox_events,
    activities,
    instances,
    deliveries,
    helpful_marks,
    forum_moderators,
    moderation_log,
    bans,
    reports,
    invites,
    instance_blocks,
    forum_members,
    thread_reads,
    forum_watches,
    notifications,
    post_mentions,
    email_tokens,
    mail_outbox,
    site_secrets,
    author_counts,
);
