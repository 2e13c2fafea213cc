-- Units, accounts, roles, sessions and sign-in captchas. Times are RFC 3339 UTC
-- text with microseconds, so they compare as text.
CREATE TABLE unit (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    division   TEXT NOT NULL REFERENCES division (code),
    created_at TEXT NOT NULL,
    UNIQUE (division, name)
);

CREATE TABLE account (
    id                   INTEGER PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    email                TEXT UNIQUE,
    phone_cipher         BLOB,
    phone_bidx           BLOB UNIQUE,
    phone_masked         TEXT,
    volunteer_number     TEXT UNIQUE,
    unit_id              INTEGER REFERENCES unit (id),
    jurisdiction         TEXT NOT NULL CHECK (length(jurisdiction) = 12),
    password_hash        TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 1,
    failures             INTEGER NOT NULL DEFAULT 0,
    locked_until         TEXT,
    disabled             INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX account_unit ON account (unit_id);

CREATE TABLE account_role (
    account_id INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    PRIMARY KEY (account_id, role)
);

CREATE TABLE password_history (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX password_history_account ON password_history (account_id, id);

-- The cookie holds a random token; only its SHA-256 is stored.
CREATE TABLE session (
    token_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    ip         TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);
CREATE INDEX session_account ON session (account_id);

-- Single use: taken (deleted) by the sign-in that answers it.
CREATE TABLE captcha (
    id          TEXT PRIMARY KEY,
    answer_hash TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX captcha_expires ON captcha (expires_at);

-- Failed sign-ins per client address, to slow guessing across accounts.
CREATE TABLE signin_throttle (
    ip           TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start TEXT NOT NULL
);
