-- RSA keys of ActivityPub actors, made when first needed. Remote actors keep only their public key.
ALTER TABLE users ADD COLUMN public_key TEXT;
ALTER TABLE users ADD COLUMN private_key TEXT;
ALTER TABLE forums ADD COLUMN public_key TEXT;
ALTER TABLE forums ADD COLUMN private_key TEXT;

-- The instance's own actor (/actor), which signs fetches. One row, id 1.
CREATE TABLE instance_actor (
    id INTEGER PRIMARY KEY,
    public_key TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
