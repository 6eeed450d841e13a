-- L3 of the platform HTTP layer's response cache (shared/platforms/src/cache.rs): answers of
-- metadata platforms by platform and normalised URL, so a repeat of the same question costs
-- no platform request even after Redis (L2) was flushed. Disposable: truncating it only
-- costs requests. Additive migration (expand only), safe for old binaries.
CREATE TABLE IF NOT EXISTS platform_cache (
    platform   text        NOT NULL,
    cache_key  text        NOT NULL,
    body       bytea       NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (platform, cache_key)
);

-- purge of expired rows in bounded steps
CREATE INDEX IF NOT EXISTS platform_cache_expires_at ON platform_cache (expires_at);
