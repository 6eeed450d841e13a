-- cratedigger schema, first release.
--
-- MIGRATION POLICY: EXPAND / CONTRACT. During a rolling deploy the previous release's
-- binaries keep running against the schema the new release migrated to, so a migration may
-- only ADD: tables, nullable columns or columns with a default, indexes, allowed values of a
-- check constraint. Nothing is dropped or renamed in the same release that stops using it;
-- the "contract" step (drop / rename / tighten) ships in a LATER release, once no running
-- binary needs the old shape. Never edit a migration that has shipped: sqlx stores its
-- checksum and refuses to start on a mismatch. Older binaries tolerate migrations they do
-- not know (the store sets `ignore_missing`), which is what makes expand-first safe.
--
-- Postgres is the source of truth; Redis only holds work in flight. The consolidator is the
-- only writer of items and tracks (plus the reconciler's touch/fail of stuck items).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One request: a playlist file, a URL, a single track typed by a person.
CREATE TABLE syncs (
    id            uuid        PRIMARY KEY,
    name          text        NOT NULL,
    -- file name or URL the items came from
    source        text        NOT NULL,
    -- priority lane of every job of this sync: interactive | batch | background
    lane          text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- number of items stored (lines that parsed)
    item_count    integer     NOT NULL,
    -- unparseable input lines: [{"line_no": 3, "input": "...", "reason": "..."}]
    skipped_lines jsonb       NOT NULL DEFAULT '[]'
);

CREATE INDEX syncs_created_at_idx ON syncs (created_at DESC);

-- Canonical resolved recordings: one row per recording, whatever platforms said about it.
CREATE TABLE tracks (
    id             uuid        PRIMARY KEY,
    -- normalised "artist|title|mix" key from the music crate; the dedup identity
    dedup_key      text        NOT NULL,
    isrc           text        NULL,
    artist         text        NOT NULL,
    title          text        NOT NULL,
    mix            text        NULL,
    album          text        NULL,
    label          text        NULL,
    catalog_number text        NULL,
    -- as a platform writes it: YYYY, YYYY-MM or YYYY-MM-DD
    release_date   text        NULL,
    duration_ms    integer     NULL,
    bpm            real        NULL,
    key            text        NULL,
    genre          text        NULL,
    artwork_url    text        NULL,
    -- normalised artist / title, for the trigram duplicate search
    norm_artist    text        NOT NULL,
    norm_title     text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    -- merged fields with which source said what
    metadata       jsonb       NOT NULL DEFAULT '{}',
    CONSTRAINT tracks_dedup_key_unique UNIQUE (dedup_key)
);

-- One ISRC is one recording: a second row with the same ISRC is a duplicate.
CREATE UNIQUE INDEX tracks_isrc_unique ON tracks (isrc) WHERE isrc IS NOT NULL;

-- Fuzzy duplicate search ("is this already in the library under a slightly other name?").
-- Queries must use exactly this expression for the index to apply.
CREATE INDEX tracks_norm_trgm_idx ON tracks
    USING gin ((norm_artist || ' ' || norm_title) gin_trgm_ops);

-- Per-platform records of a track: ids, page URL and the platform's raw JSON (provenance).
CREATE TABLE track_sources (
    track_id    uuid        NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    platform    text        NOT NULL,
    platform_id text        NOT NULL,
    url         text        NULL,
    raw         jsonb       NULL,
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (track_id, platform, platform_id)
);

CREATE INDEX track_sources_platform_idx ON track_sources (platform, platform_id);

-- One wanted track of a sync, and where it stands in the state machine.
CREATE TABLE items (
    id               uuid        PRIMARY KEY,
    sync_id          uuid        NOT NULL REFERENCES syncs (id),
    -- place in the sync, from 1, counting only the lines that parsed
    position         integer     NOT NULL,
    -- line of the input file it came from (from 1)
    line_no          integer     NOT NULL,
    input_line       text        NOT NULL,
    -- the WantedTrack, as JSON
    wanted           jsonb       NOT NULL,
    -- Adding a state later: a new migration drops and re-adds this constraint with the
    -- larger set (expand); removing one is a contract step of a later release.
    state            text        NOT NULL CONSTRAINT items_state_check CHECK (state IN (
                         'pending', 'researching', 'resolved', 'duplicate', 'discovering',
                         'ranked', 'awaiting_approval', 'downloading', 'verifying', 'filed',
                         'failed')),
    -- a sentence for a person (why it failed, which track it duplicates)
    reason           text        NULL,
    track_id         uuid        NULL REFERENCES tracks (id),
    -- re-enqueues by the reconciler / research attempts
    attempts         integer     NOT NULL DEFAULT 0,
    -- the research lead's plan (queries and rationale)
    plan             jsonb       NULL,
    -- platforms that gave nothing, and why (circuit open, rate limited, ...)
    skipped_sources  jsonb       NOT NULL DEFAULT '[]',
    -- score breakdown of the accepted candidate
    match            jsonb       NULL,
    state_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT items_sync_position_unique UNIQUE (sync_id, position)
);

-- Progress of one sync (counts per state).
CREATE INDEX items_sync_state_idx ON items (sync_id, state);
-- The reconciler: items of a state whose state has not changed since a deadline.
CREATE INDEX items_state_changed_idx ON items (state, state_changed_at);
-- Which items a track resolved (and the foreign key check when a track is deleted).
CREATE INDEX items_track_idx ON items (track_id) WHERE track_id IS NOT NULL;

-- Job ids already applied by the consolidator, written in the same transaction as the
-- job's effect: a redelivered job finds its id here and changes nothing.
CREATE TABLE processed_jobs (
    job_id       uuid        PRIMARY KEY,
    queue        text        NOT NULL,
    item_id      uuid        NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX processed_jobs_processed_at_idx ON processed_jobs (processed_at);

-- Every state change of every item (and reconciler re-enqueues), for the item's history.
CREATE TABLE item_events (
    id         bigserial   PRIMARY KEY,
    item_id    uuid        NOT NULL REFERENCES items (id),
    from_state text        NULL,
    to_state   text        NOT NULL,
    reason     text        NULL,
    job_id     uuid        NULL,
    detail     jsonb       NULL,
    at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX item_events_item_idx ON item_events (item_id, id);
