-- Web page sessions (issue 10): a person who logs in to the page with the API token gets a
-- session cookie instead of keeping the token in the browser. Additive only (see the
-- policy in the first migration).

CREATE TABLE web_sessions (
    -- sha256 of the random 32-byte session id: the id itself is only ever in the cookie, so
    -- a leaked table (backup, replica) gives no usable session
    id_hash    bytea       PRIMARY KEY,
    -- token every state-changing request authenticated by this session must echo in
    -- X-CSRF-Token (a page on another site cannot read it)
    csrf       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- refused after this; rows past it are deleted at the next login
    expires_at timestamptz NOT NULL
);

CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);
