//! The OpenAPI document of the HTTP API, served at `/v1/openapi.json` and kept in
//! `docs/openapi.json` (a test checks they are equal).

use serde_json::{Value, json};

fn err() -> Value {
    json!({ "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

/// The document: the API's paths, plus those of the web page (`web_paths`).
pub fn document() -> Value {
    let mut doc = base();
    if let (Some(paths), Value::Object(web)) = (doc["paths"].as_object_mut(), web_paths()) {
        paths.extend(web);
    }
    doc
}

/// The web page's endpoints (issue 10): session, live events, library, retry, the page.
fn web_paths() -> Value {
    json!({
        "/v1/session": {
            "get": {
                "summary": "Whether the page must log in, and the caller's session (its CSRF token) when it has a live one",
                "security": [],
                "responses": { "200": { "description": "{auth_required, logged_in, via: loopback|session, csrf?, expires_at?}" } } },
            "post": {
                "summary": "Log the page in with the API token: sets the session cookie (HttpOnly; SameSite=Strict; Path=/) and answers its CSRF token",
                "description": "The session id is random (32 bytes), stored only as its SHA-256 with an expiry (CRATEDIGGER__API__SESSION_TTL_SECS, default 43200). Every state-changing request authenticated by the cookie must send `X-CSRF-Token` with this token and, when the browser sends one, a same-origin `Origin` (403 otherwise). Bearer requests are unaffected. Without a configured token (loopback) there is nothing to log in to and the answer says so.",
                "security": [],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "required": ["token"], "properties": {
                    "token": { "type": "string" } } } } } },
                "responses": { "201": { "description": "session created; Set-Cookie" }, "200": { "description": "no login needed (loopback)" }, "400": err(), "401": err(), "403": err(), "429": err(), "503": err() } },
            "delete": {
                "summary": "Log out: the session is deleted and the cookie cleared (needs X-CSRF-Token with a cookie session)",
                "responses": { "200": { "description": "logged out" }, "401": err(), "403": err() } } },
        "/v1/events": { "get": {
            "summary": "Live updates as server-sent events: `hello` {last_id}, `item` {id, item_id, sync_id, from, to, reason, at} for every item state change (polled every 500 ms, at most 200 per poll), `queues` [QueueDepth] when depths change (every 2 s)",
            "description": "Send `Last-Event-ID` (EventSource does when it reconnects) to resume after that event; without it the stream starts at the newest one. At most 32 streams at once (503 beyond).",
            "responses": {
                "200": { "description": "event stream", "content": { "text/event-stream": { "schema": { "type": "string" } } } },
                "401": err(), "503": err() } } },
        "/v1/library": { "get": {
            "summary": "Search the filed files (path, input line, artist, title contain `q`) with what verification measured, the resolved tracks (artist, title, mix, label, ISRC), the duplicates found, and upgrades (not detected yet: `upgrades_note`)",
            "parameters": [
                { "name": "q", "in": "query", "schema": { "type": "string", "maxLength": 200 } },
                { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 200 } } ],
            "responses": { "200": { "description": "{q, files, tracks, duplicates, upgrades, upgrades_note}" }, "400": err(), "401": err(), "503": err() } } },
        "/v1/items/{id}/retry": { "post": {
            "summary": "Send a failed item round again: from discovery when acquisition had its target, else from research (pending); its research or discovery job is enqueued as at sync creation",
            "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } } ],
            "responses": { "202": { "description": "{item, state, enqueued}" }, "400": err(), "401": err(), "404": err(), "409": err(), "503": err() } } },
        "/": { "get": {
            "summary": "The web page (syncs, review, library, queue, chat); served without credentials, its API calls need them",
            "security": [],
            "responses": { "200": { "description": "HTML", "content": { "text/html": { "schema": { "type": "string" } } } } } } }
    })
}

fn base() -> Value {
    let state_enum = json!(cratedigger_domain::item::ALL_STATES.map(|s| s.as_str()));
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "cratedigger scheduler API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Create syncs from playlists, follow their progress per state, inspect queues and the dead-letter list. Bound to loopback by default; beyond loopback every request except /healthz, /readyz and /metrics needs `Authorization: Bearer <CRATEDIGGER__API__TOKEN>`."
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": {
                    "error": { "type": "string", "description": "What was wrong, in a sentence." },
                    "field": { "type": "string", "description": "The offending field or parameter." } } },
                "Lane": { "type": "string", "enum": ["interactive", "batch", "background"] },
                "State": { "type": "string", "enum": state_enum },
                "CreateSync": { "type": "object", "additionalProperties": false,
                    "description": "Exactly one of `playlist` (the text) and `url` (a playlist or chart address).",
                    "oneOf": [ { "required": ["playlist"] }, { "required": ["url"] } ],
                    "properties": {
                    "playlist": { "type": "string", "description": "M3U/M3U8 with #EXTINF, CSV with an artist,title header, or 'Artist - Title' lines; at most 10 MB." },
                    "url": { "type": "string", "description": "A Spotify playlist (https://open.spotify.com/playlist/<id> or spotify:playlist:<id>), Deezer playlist (https://www.deezer.com/<lang>/playlist/<id>) or Beatport chart (https://www.beatport.com/chart/<slug>/<id>): the scheduler reads every page; the sync's source is the address and each item's line number its position. Short links (deezer.page.link, spotify.link) are refused." },
                    "name": { "type": "string" },
                    "source": { "type": "string", "description": "File name or URL the `playlist` text came from; its extension picks the format. Not with `url`." },
                    "lane": { "$ref": "#/components/schemas/Lane" } } },
                "SkippedLine": { "type": "object", "properties": {
                    "line_no": { "type": "integer" }, "input": { "type": "string" }, "reason": { "type": "string" } } },
                "SyncCreated": { "type": "object", "properties": {
                    "sync_id": { "type": "string", "format": "uuid" }, "items": { "type": "integer" },
                    "format": { "type": "string" }, "enqueued": { "type": "integer" },
                    "skipped": { "type": "array", "items": { "$ref": "#/components/schemas/SkippedLine" } } } },
                "SyncProgress": { "type": "object", "properties": {
                    "sync_id": { "type": "string", "format": "uuid" }, "name": { "type": "string" }, "source": { "type": "string" },
                    "lane": { "$ref": "#/components/schemas/Lane" }, "created_at": { "type": "string", "format": "date-time" },
                    "total": { "type": "integer" }, "finished": { "type": "boolean" },
                    "counts": { "type": "object", "additionalProperties": { "type": "integer" }, "description": "Items per state, zeros included." },
                    "skipped_lines": { "type": "array", "items": { "$ref": "#/components/schemas/SkippedLine" } } } },
                "Item": { "type": "object", "description": "One wanted track: input line, state, readable reason, and the resolved track with ids, ISRC, BPM, key and sources." },
                "QueueDepth": { "type": "object", "properties": {
                    "queue": { "type": "string" }, "lanes": { "type": "object", "additionalProperties": { "type": "integer" } },
                    "inflight": { "type": "integer" }, "delayed": { "type": "integer" }, "dead": { "type": "integer" },
                    "stats": { "type": "object", "additionalProperties": { "type": "integer" } } } }
            }
        },
        "security": [ { "bearer": [] } ],
        "paths": {
            "/v1/syncs": {
                "post": {
                    "summary": "Create a sync from a playlist, or from a playlist or chart address",
                    "description": "Send JSON (CreateSync) or the raw playlist bytes with ?name=&source=&lane=. Unparseable lines (and playlist entries that are not tracks: local files, episodes, removed tracks) are skipped and reported; an empty, binary or oversized playlist is refused and nothing is stored. With `url`, errors name the field `url`: 400 an address that is not a supported playlist or chart, 404 a playlist the platform does not have, 403 a private one, 502 the platform failed or refused our credentials, 503 the platform is not configured here.",
                    "parameters": [
                        { "name": "name", "in": "query", "schema": { "type": "string" } },
                        { "name": "source", "in": "query", "schema": { "type": "string" } },
                        { "name": "lane", "in": "query", "schema": { "$ref": "#/components/schemas/Lane" } } ],
                    "requestBody": { "required": true, "content": {
                        "application/json": { "schema": { "$ref": "#/components/schemas/CreateSync" } },
                        "text/plain": { "schema": { "type": "string" } },
                        "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
                    "responses": {
                        "201": { "description": "created", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SyncCreated" } } } },
                        "400": err(), "401": err(), "403": err(), "404": err(), "413": err(), "502": err(), "503": err() } },
                "get": {
                    "summary": "List recent syncs",
                    "parameters": [ { "name": "limit", "in": "query", "schema": { "type": "integer", "maximum": 1000 } } ],
                    "responses": { "200": { "description": "syncs" }, "400": err(), "401": err() } } },
            "/v1/syncs/{id}": { "get": {
                "summary": "Progress of a sync: counts per state",
                "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } } ],
                "responses": { "200": { "description": "progress", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SyncProgress" } } } },
                    "400": err(), "401": err(), "404": err() } } },
            "/v1/syncs/{id}/items": { "get": {
                "summary": "Items of a sync",
                "parameters": [
                    { "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } },
                    { "name": "state", "in": "query", "schema": { "$ref": "#/components/schemas/State" } },
                    { "name": "limit", "in": "query", "schema": { "type": "integer" } },
                    { "name": "offset", "in": "query", "schema": { "type": "integer" } } ],
                "responses": { "200": { "description": "items", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Item" } } } } },
                    "400": err(), "401": err(), "404": err() } } },
            "/v1/items": { "get": {
                "summary": "Items across syncs, by state",
                "parameters": [
                    { "name": "state", "in": "query", "schema": { "$ref": "#/components/schemas/State" } },
                    { "name": "sync_id", "in": "query", "schema": { "type": "string", "format": "uuid" } },
                    { "name": "limit", "in": "query", "schema": { "type": "integer" } },
                    { "name": "offset", "in": "query", "schema": { "type": "integer" } } ],
                "responses": { "200": { "description": "items" }, "400": err(), "401": err() } } },
            "/v1/review": { "get": {
                "summary": "Items waiting for approval, oldest first, each with its top candidates (score breakdown), buy/listen options and how many were filtered out",
                "parameters": [
                    { "name": "sync", "in": "query", "schema": { "type": "string", "format": "uuid" } },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 500 } } ],
                "responses": { "200": { "description": "waiting items" }, "400": err(), "401": err() } } },
            "/v1/items/{id}/candidates": { "get": {
                "summary": "Every candidate of an item: rank (1 = best downloadable), score and factors, state, failure",
                "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } } ],
                "responses": { "200": { "description": "item and candidates" }, "400": err(), "401": err(), "404": err() } } },
            "/v1/items/{id}/approve": { "post": {
                "summary": "Approve candidate `rank` (default 1) of an item waiting for approval; the consolidator downloads, verifies and files it",
                "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } } ],
                "requestBody": { "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "properties": {
                    "rank": { "type": "integer", "minimum": 1 }, "by": { "type": "string", "maxLength": 500 } } } } } },
                "responses": { "202": { "description": "decision queued" }, "400": err(), "401": err(), "404": err(), "409": err() } } },
            "/v1/items/{id}/reject": { "post": {
                "summary": "Reject every candidate of an item waiting for approval; it fails and nothing is downloaded",
                "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } } ],
                "requestBody": { "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "properties": {
                    "reason": { "type": "string", "maxLength": 500 }, "by": { "type": "string", "maxLength": 500 } } } } } },
                "responses": { "202": { "description": "decision queued" }, "400": err(), "401": err(), "404": err(), "409": err() } } },
            "/v1/queues": { "get": {
                "summary": "Queue depth per queue and lane, in flight, delayed, dead-lettered",
                "responses": { "200": { "description": "depths", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/QueueDepth" } } } } },
                    "401": err(), "503": err() } } },
            "/v1/status": { "get": {
                "summary": "Items per state across all syncs, and queue depths",
                "responses": { "200": { "description": "status" }, "401": err(), "503": err() } } },
            "/v1/dlq": { "get": {
                "summary": "Dead-lettered jobs with their reasons",
                "parameters": [
                    { "name": "queue", "in": "query", "schema": { "type": "string", "enum": cratedigger_domain::jobs::queues::ALL } },
                    { "name": "limit", "in": "query", "schema": { "type": "integer" } } ],
                "responses": { "200": { "description": "dead jobs" }, "400": err(), "401": err() } } },
            "/v1/dlq/redrive": { "post": {
                "summary": "Put dead-lettered jobs back in their lanes with a fresh attempt budget",
                "requestBody": { "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "properties": {
                    "queue": { "type": "string" }, "max": { "type": "integer" } } } } } },
                "responses": { "200": { "description": "counts per queue" }, "400": err(), "401": err() } } },
            "/v1/chat": { "post": {
                "summary": "Tell the lead agent what you want; follow its plan, tool calls, syncs, progress and answer as server-sent events",
                "description": "The planner (an OpenAI-compatible LLM when CRATEDIGGER__LEAD__BASE_URL is set, else rule-based; rule-based also when the LLM is down, slow or over budget, and the `plan` event says so) turns the message into validated calls of cratedigger's own tools. Tools that act create ordinary syncs (visible in /v1/syncs); no tool approves, downloads or changes the library. Events: `plan` {planner, why, tools, fallback?, reason?, conversation_id}, `tool` {planner, name, args, summary, result, error?: {class, tool, platform, field, attempt, alternatives, next_action, message}}, `sync` {sync_id, items, lane, source}, `progress` {syncs: [{sync_id, total, finished, counts}]}, `answer` {text, tracks, failures, syncs, policy}, `done` {conversation_id, finished, syncs}. See docs/lead-agent.md.",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "required": ["message"], "properties": {
                    "conversation_id": { "type": "string", "format": "uuid", "description": "Continue this conversation; a new one is started when absent." },
                    "message": { "type": "string", "maxLength": 20000 } } } } } },
                "responses": {
                    "200": { "description": "event stream", "content": { "text/event-stream": { "schema": { "type": "string" } } } },
                    "400": err(), "401": err(), "404": err(), "503": err() } } },
            "/v1/memory/labels/{name}": { "get": {
                "summary": "What the lead's memory knows of a label: releases and tracks the fleet resolved, which are in the library and which not, artists, sets",
                "description": "Derived from the resolved tracks (no platform discography listing: `catalog_source` says so). A track is in the library when the fleet filed a file for it or an imported Rekordbox library has its ISRC. Label matched case-insensitively. Answer: {name, kind, known, tracks, truncated, releases: [{release, catalog_number, release_date, label, tracks, in_library, missing}], in_library, not_in_library, artists: [{name, tracks}], sets: [{sync_id, name, source}], catalog_source}.",
                "parameters": [ { "name": "name", "in": "path", "required": true, "schema": { "type": "string", "maxLength": 300 } } ],
                "responses": { "200": { "description": "the label's memory" }, "400": err(), "401": err(), "404": err(), "503": err() } } },
            "/v1/memory/artists/{name}": { "get": {
                "summary": "What the lead's memory knows of an artist: releases, labels (`labels` instead of `artists`), tracks in and not in the library, sets",
                "parameters": [ { "name": "name", "in": "path", "required": true, "schema": { "type": "string", "maxLength": 300 } } ],
                "responses": { "200": { "description": "the artist's memory" }, "400": err(), "401": err(), "404": err(), "503": err() } } },
            "/v1/preferences": {
                "get": {
                    "summary": "The stored acquisition preferences (from chat words or PUT) and their effect on the configured policy",
                    "description": "Answer: {preferences: {min_quality?, formats?, skip_owned?, trusted_labels?}, described, effective: {min_quality, formats, auto_approve, auto_approve_lossless_only}, note}. Preferences can only make the configured policy stricter.",
                    "responses": { "200": { "description": "preferences" }, "401": err(), "503": err() } },
                "put": {
                    "summary": "Replace the stored acquisition preferences (they can only tighten the configured policy; approval is not a preference)",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "properties": {
                        "min_quality": { "type": "string", "description": "lossless, any, 320, mp3 320, ..." },
                        "formats": { "type": "array", "items": { "type": "string" } },
                        "skip_owned": { "type": "boolean" },
                        "trusted_labels": { "type": "array", "maxItems": 50, "items": { "type": "string", "maxLength": 100 } } } } } } },
                    "responses": { "200": { "description": "stored preferences" }, "400": err(), "401": err(), "503": err() } } },
            "/v1/openapi.json": { "get": { "summary": "This document", "security": [], "responses": { "200": { "description": "OpenAPI" } } } },
            "/healthz": { "get": { "summary": "Liveness", "security": [], "responses": { "200": { "description": "alive" } } } },
            "/readyz": { "get": { "summary": "Readiness (database and Redis reachable, migrations applied)", "security": [], "responses": { "200": { "description": "ready" }, "503": { "description": "starting" } } } },
            "/metrics": { "get": { "summary": "Prometheus metrics", "security": [], "responses": { "200": { "description": "text exposition format" } } } }
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_copy_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
        let served = serde_json::to_string_pretty(&super::document()).unwrap() + "\n";
        if std::env::var("CRATEDIGGER_UPDATE_OPENAPI").is_ok() {
            std::fs::write(&path, &served).unwrap();
        }
        let kept = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            kept == served,
            "docs/openapi.json differs from the served document; run `CRATEDIGGER_UPDATE_OPENAPI=1 cargo test -p cratedigger openapi` and commit it"
        );
    }
}
