-- Rekordbox library import (issue 8): a mirror of each imported master.db, so duplicate
-- detection knows what the DJ already owns and an upgrade knows which cues to keep.
--
-- ADDITIVE ONLY (see the policy in the first migration): new tables and a view, nothing
-- existing is touched. Rows are keyed by the library's own id (djmdProperty.DBID, one DJ can
-- have several libraries) and Rekordbox's row IDs (decimal strings, kept as text). Each
-- import replaces one library's rows in one transaction and records the run.

CREATE TABLE rekordbox_import_runs (
    id                 uuid PRIMARY KEY,
    library_id         text NOT NULL,
    db_path            text NOT NULL,
    started_at         timestamptz NOT NULL,
    finished_at        timestamptz,
    -- agentRegistry.localUpdateCount when read: a later import with the same value saw
    -- the same library.
    local_update_count bigint NOT NULL,
    tracks             integer NOT NULL DEFAULT 0,
    artists            integer NOT NULL DEFAULT 0,
    albums             integer NOT NULL DEFAULT 0,
    labels             integer NOT NULL DEFAULT 0,
    genres             integer NOT NULL DEFAULT 0,
    keys               integer NOT NULL DEFAULT 0,
    playlists          integer NOT NULL DEFAULT 0,
    playlist_entries   integer NOT NULL DEFAULT 0,
    cues               integer NOT NULL DEFAULT 0,
    hot_cues           integer NOT NULL DEFAULT 0,
    memory_cues        integer NOT NULL DEFAULT 0,
    loops              integer NOT NULL DEFAULT 0
);
CREATE INDEX rekordbox_import_runs_library_idx ON rekordbox_import_runs (library_id, started_at DESC);

CREATE TABLE rekordbox_artists (
    library_id    text NOT NULL,
    rb_id         text NOT NULL,
    name          text NOT NULL,
    import_run_id uuid NOT NULL REFERENCES rekordbox_import_runs (id),
    PRIMARY KEY (library_id, rb_id)
);

CREATE TABLE rekordbox_albums (
    library_id      text NOT NULL,
    rb_id           text NOT NULL,
    name            text NOT NULL,
    album_artist_id text,
    import_run_id   uuid NOT NULL REFERENCES rekordbox_import_runs (id),
    PRIMARY KEY (library_id, rb_id)
);

CREATE TABLE rekordbox_labels (
    library_id    text NOT NULL,
    rb_id         text NOT NULL,
    name          text NOT NULL,
    import_run_id uuid NOT NULL REFERENCES rekordbox_import_runs (id),
    PRIMARY KEY (library_id, rb_id)
);

CREATE TABLE rekordbox_genres (
    library_id    text NOT NULL,
    rb_id         text NOT NULL,
    name          text NOT NULL,
    import_run_id uuid NOT NULL REFERENCES rekordbox_import_runs (id),
    PRIMARY KEY (library_id, rb_id)
);

-- djmdKey: ScaleName is free text in the user's notation (Am, 8A, Emin, ...).
CREATE TABLE rekordbox_keys (
    library_id    text NOT NULL,
    rb_id         text NOT NULL,
    scale_name    text NOT NULL,
    seq           bigint,
    import_run_id uuid NOT NULL REFERENCES rekordbox_import_runs (id),
    PRIMARY KEY (library_id, rb_id)
);

-- djmdContent, the fields cratedigger uses, as Rekordbox stores them (BPM x 100, whole
-- seconds, file type codes, ID references).
CREATE TABLE rekordbox_tracks (
    library_id    text NOT NULL,
    rb_id         text NOT NULL,
    uuid          text,
    folder_path   text NOT NULL,
    file_name     text,
    title         text,
    artist_id     text,
    album_id      text,
    genre_id      text,
    label_id      text,
    key_id        text,
    remixer_id    text,
    bpm_x100      integer,
    length_secs   integer,
    track_no      integer,
    bitrate       integer,
    bit_depth     integer,
    sample_rate   integer,
    file_type     integer,
    file_size     bigint,
    rating        integer,
    play_count    integer,
    comment       text,
    color_id      text,
    isrc          text,
    release_year  integer,
    stock_date    text,
    date_created  text,
    rb_local_usn  bigint,
    rb_created_at text,
    rb_updated_at text,
    import_run_id uuid NOT NULL REFERENCES rekordbox_import_runs (id),
    PRIMARY KEY (library_id, rb_id)
);
CREATE INDEX rekordbox_tracks_path_idx ON rekordbox_tracks (library_id, folder_path);
CREATE INDEX rekordbox_tracks_isrc_idx ON rekordbox_tracks (upper(isrc)) WHERE isrc IS NOT NULL;

-- djmdPlaylist: attribute 0 playlist, 1 folder, 4 smart playlist; parent_id 'root' or a folder.
CREATE TABLE rekordbox_playlists (
    library_id    text NOT NULL,
    rb_id         text NOT NULL,
    name          text NOT NULL,
    parent_id     text NOT NULL,
    attribute     integer NOT NULL,
    seq           bigint,
    import_run_id uuid NOT NULL REFERENCES rekordbox_import_runs (id),
    PRIMARY KEY (library_id, rb_id)
);

CREATE TABLE rekordbox_playlist_entries (
    library_id    text NOT NULL,
    rb_id         text NOT NULL,
    playlist_id   text NOT NULL,
    content_id    text NOT NULL,
    track_no      bigint,
    import_run_id uuid NOT NULL REFERENCES rekordbox_import_runs (id),
    PRIMARY KEY (library_id, rb_id)
);
CREATE INDEX rekordbox_playlist_entries_content_idx ON rekordbox_playlist_entries (library_id, content_id);

-- djmdCue: memory cues (kind 0) and hot cues (hot_cue_slot 0 = A ... 7 = H, derived from
-- kind), loops (out_msec set), colours as stored (color: memory-cue colour index, -1 none;
-- color_table_index: hot-cue palette index).
CREATE TABLE rekordbox_cues (
    library_id        text NOT NULL,
    rb_id             text NOT NULL,
    content_id        text NOT NULL,
    content_uuid      text,
    kind              integer NOT NULL,
    hot_cue_slot      smallint,
    in_msec           bigint NOT NULL,
    out_msec          bigint,
    color             integer,
    color_table_index integer,
    active_loop       integer,
    comment           text,
    beat_loop_size    bigint,
    import_run_id     uuid NOT NULL REFERENCES rekordbox_import_runs (id),
    PRIMARY KEY (library_id, rb_id)
);
CREATE INDEX rekordbox_cues_content_idx ON rekordbox_cues (library_id, content_id);

-- Tracks with their names resolved, for duplicate checks and people.
CREATE VIEW rekordbox_track_view AS
SELECT t.library_id, t.rb_id, t.folder_path, t.title,
       a.name AS artist, al.name AS album, g.name AS genre, l.name AS label, k.scale_name AS key,
       t.bpm_x100 / 100.0 AS bpm, t.length_secs, t.file_type, t.bitrate, t.sample_rate,
       t.bit_depth, t.file_size, t.isrc, t.rating, t.play_count,
       (SELECT count(*) FROM rekordbox_cues c
         WHERE c.library_id = t.library_id AND c.content_id = t.rb_id) AS cue_count
  FROM rekordbox_tracks t
  LEFT JOIN rekordbox_artists a ON a.library_id = t.library_id AND a.rb_id = t.artist_id
  LEFT JOIN rekordbox_albums al ON al.library_id = t.library_id AND al.rb_id = t.album_id
  LEFT JOIN rekordbox_genres g ON g.library_id = t.library_id AND g.rb_id = t.genre_id
  LEFT JOIN rekordbox_labels l ON l.library_id = t.library_id AND l.rb_id = t.label_id
  LEFT JOIN rekordbox_keys k ON k.library_id = t.library_id AND k.rb_id = t.key_id;
