-- E-mail: verified addresses, how each person wants mail, single-use links, and the mail
-- outbox (mail is written here first and sent by the mailer, so a mail server that fails
-- delays mail but loses none).

-- When the person proved the address in `email` is theirs (by the link sent to it); nothing
-- is sent to an address before.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMP;
-- `immediate` (each notification), `digest` (one message a day) or `off`.
ALTER TABLE users ADD COLUMN email_mode TEXT NOT NULL DEFAULT 'immediate';
-- When their last digest was made (the next lists what came after).
ALTER TABLE users ADD COLUMN last_digest_at TIMESTAMP;
-- Accounts by confirmed address (password reset by address).
CREATE INDEX users_verified_email ON users (email) WHERE email_verified_at IS NOT NULL;
-- The people waiting for a digest, found without reading every account.
CREATE INDEX users_digest ON users (email_mode, last_digest_at);

-- When the mailer dealt with a notification (e-mailed it, or passed over it because its
-- person takes no immediate mail): the rest are what it still has to look at.
ALTER TABLE notifications ADD COLUMN emailed_at TIMESTAMP;
CREATE INDEX notifications_to_mail ON notifications (id) WHERE emailed_at IS NULL;

-- Single-use links: `verify` (an address) and `reset` (a password). Only a digest of the
-- token is kept.
CREATE TABLE email_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE UNIQUE INDEX email_tokens_hash ON email_tokens (token_hash);
CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose, created_at);

-- Mail to send: what it is (`kind`, with what it needs in `payload`), to whom, and how
-- sending has gone.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    to_address TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    sent_at TIMESTAMP,
    failed_at TIMESTAMP
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_done ON mail_outbox (created_at) WHERE sent_at IS NOT NULL OR failed_at IS NOT NULL;

-- Secrets the site keeps for itself (the key unsubscribe links are signed with).
CREATE TABLE site_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
