//! The shared HTTP layer against real parts: the fixture server serving the kit's recorded
//! payloads (read in place), the real Redis on 127.0.0.1:6379 (each test under its own key
//! prefix) and a fresh PostgreSQL database with the migrations applied.

use cratedigger_domain::ErrorClass;
use cratedigger_e2e::fixture_server::{self, Fault, FixtureServer};
use cratedigger_platforms::breaker::BreakerConfig;
use cratedigger_platforms::cache::CacheConfig;
use cratedigger_platforms::deezer::Deezer;
use cratedigger_platforms::http::Sleeper;
use cratedigger_platforms::limiter::{Admission, Limiter, Rate, parked_key, tat_key};
use cratedigger_platforms::musicbrainz::MusicBrainz;
use cratedigger_platforms::{
    HttpConfig, MetadataPlatform, PlatformContext, PlatformsConfig, RateLimit,
};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A recorded MusicBrainz recording (kit: recording_lookup_ab80a174_...json).
const MBID: &str = "ab80a174-1b7d-41c8-bddb-5edfd849d512";

async fn server() -> FixtureServer {
    fixture_server::serve(
        cratedigger_e2e::kit::kit_dir(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .expect("fixture server starts")
}

async fn redis() -> ConnectionManager {
    let url = std::env::var("CRATEDIGGER__REDIS__URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    cratedigger_fleet_free_connect(&url).await
}

async fn cratedigger_fleet_free_connect(url: &str) -> ConnectionManager {
    let client = redis::Client::open(url).expect("redis url");
    ConnectionManager::new(client)
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} is needed for this test: {e}"))
}

fn prefix(test: &str) -> String {
    format!("test-http-{test}-{}", ulid::Ulid::new())
}

/// Deletes every key under `prefix` (this test's only).
async fn clean(conn: &ConnectionManager, pattern: &str) {
    let mut c = conn.clone();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut c)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: () = c.del(keys).await.unwrap();
    }
}

fn config(server: &FixtureServer) -> PlatformsConfig {
    let mut cfg = PlatformsConfig::default();
    cfg.musicbrainz.base_url = server.base_url();
    cfg.deezer.base_url = server.base_url();
    cfg
}

/// A sleeper that records retry waits instead of sleeping (the limiter still really waits).
fn recorder() -> (Sleeper, Arc<Mutex<Vec<Duration>>>) {
    let waits = Arc::new(Mutex::new(Vec::new()));
    let w = waits.clone();
    let sleeper = Sleeper::from_fn(move |d| {
        w.lock().unwrap().push(d);
        async {}
    });
    (sleeper, waits)
}

/// What a fleet test needs: the fixture server, Redis, this test's own key prefix and a
/// configuration pointing the platforms at the server.
async fn fleet_test(name: &str) -> (FixtureServer, ConnectionManager, String, PlatformsConfig) {
    let server = server().await;
    let cfg = config(&server);
    (server, redis().await, prefix(name), cfg)
}

/// The next `count` answers of `server` are `status` (0 ends the fault).
fn fail_with(server: &FixtureServer, status: u16, count: u32) {
    server.inject(Fault {
        status,
        count,
        retry_after: None,
    });
}

/// The fail-fast error of an open breaker reads as a sentence naming the platform.
fn assert_says_the_circuit_is_open(e: &cratedigger_platforms::PlatformError) {
    let msg = e.to_string();
    assert!(
        msg.starts_with("MusicBrainz is failing (circuit open since ")
            && msg.ends_with("; continuing with the other platforms"),
        "{msg}"
    );
}

/// MusicBrainz through `ctx`'s layer, with `sleeper` for retry waits.
fn mb(cfg: &PlatformsConfig, ctx: &PlatformContext, sleeper: Sleeper) -> MusicBrainz {
    let info = MusicBrainz::from_config(&cfg.musicbrainz, &cfg.http, &PlatformContext::default())
        .unwrap()
        .info()
        .clone();
    let client = ctx
        .http_client(
            &info,
            cfg.http
                .client_options(&cfg.musicbrainz.user_agent, cfg.musicbrainz.timeout_secs),
        )
        .unwrap()
        .with_sleeper(sleeper);
    MusicBrainz::with_client(client, &cfg.musicbrainz.base_url)
}

#[tokio::test]
async fn a_500_burst_opens_the_breaker_and_a_probe_closes_it() {
    let server = server().await;
    let mut cfg = config(&server);
    cfg.cache.enabled = false;
    cfg.limits.insert(
        "musicbrainz".into(),
        cratedigger_platforms::limiter::RateLimitConfig {
            requests: Some(1000),
            ..Default::default()
        },
    );
    cfg.breaker = BreakerConfig {
        cool_down_secs: 1,
        ..BreakerConfig::default()
    };
    let ctx = PlatformContext::local(&cfg);
    let (sleeper, waits) = recorder();
    let client = mb(&cfg, &ctx, sleeper);
    fail_with(&server, 500, 1000);

    // 3 attempts per call (server class); the 10th failing attempt opens the breaker
    for call in 1..=3 {
        let e = client.recording(MBID).await.unwrap_err();
        assert_eq!(e.class, ErrorClass::Server, "call {call}: {e}");
        assert_eq!(e.attempts, 3);
    }
    let e = client.recording(MBID).await.unwrap_err();
    assert_eq!(
        e.attempts, 1,
        "the breaker opened after the 10th failure: {e}"
    );
    assert_eq!(server.stats().total, 10);
    assert!(ctx.breaker("musicbrainz").is_open());
    // retry waits followed the server policy: base 5 s, doubling, full jitter
    {
        let waits = waits.lock().unwrap();
        assert_eq!(waits.len(), 6, "{waits:?}");
        for pair in waits.chunks(2) {
            assert!(pair[0] <= Duration::from_secs(5), "{pair:?}");
            assert!(pair[1] <= Duration::from_secs(10), "{pair:?}");
        }
    }

    // while open: fail fast, no request, a sentence naming the platform
    let e = client.recording(MBID).await.unwrap_err();
    assert_says_the_circuit_is_open(&e);
    assert_eq!(e.attempts, 0);
    assert_eq!(server.stats().total, 10);

    // the platform recovers; after the cool-down one probe closes the breaker
    fail_with(&server, 500, 0);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let t = client.recording(MBID).await.unwrap().expect("recorded");
    assert_eq!(t.platform_id, MBID);
    assert!(!ctx.breaker("musicbrainz").is_open());
    assert!(client.recording(MBID).await.unwrap().is_some());
    assert_eq!(server.stats().total, 12);
}

#[tokio::test]
async fn a_breaker_that_opens_in_one_process_stops_the_whole_fleet_for_the_cool_down() {
    let (server, conn, p, mut cfg) = fleet_test("breaker").await;
    cfg.cache.enabled = false;
    cfg.breaker = BreakerConfig {
        cool_down_secs: 1,
        min_calls: 2,
        ..BreakerConfig::default()
    };
    // two scout processes of one fleet: separate breakers, one Redis
    let ctx_a = PlatformContext::new(&cfg, Some(conn.clone()), None, &p);
    let ctx_b = PlatformContext::new(&cfg, Some(conn.clone()), None, &p);
    let a = mb(&cfg, &ctx_a, recorder().0);
    let b = mb(&cfg, &ctx_b, recorder().0);
    fail_with(&server, 503, 1000);
    let e = a.recording(MBID).await.unwrap_err();
    assert_eq!(
        e.attempts, 2,
        "A's breaker opened on its second failure: {e}"
    );
    assert!(ctx_a.breaker("musicbrainz").is_open());
    assert_eq!(server.stats().total, 2);

    // B never saw a failure, yet fails fast without a request, saying why
    let e = b.recording(MBID).await.unwrap_err();
    assert_eq!(e.attempts, 0, "{e}");
    assert_says_the_circuit_is_open(&e);
    assert!(
        !ctx_b.breaker("musicbrainz").is_open(),
        "B's own window is untouched"
    );
    assert_eq!(server.stats().total, 2);

    // after the cool-down the platform is back: B sends again, A's probe closes A's breaker
    fail_with(&server, 503, 0);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(b.recording(MBID).await.unwrap().is_some());
    assert!(a.recording(MBID).await.unwrap().is_some());
    assert!(!ctx_a.breaker("musicbrainz").is_open());
    assert_eq!(server.stats().total, 4);
    clean(&conn, &format!("{{{p}:*")).await;
}

#[tokio::test]
async fn a_failed_probe_opens_the_breaker_again() {
    let server = server().await;
    let mut cfg = config(&server);
    cfg.cache.enabled = false;
    cfg.breaker = BreakerConfig {
        cool_down_secs: 1,
        min_calls: 2,
        ..BreakerConfig::default()
    };
    let ctx = PlatformContext::local(&cfg);
    let (sleeper, _) = recorder();
    let client = mb(&cfg, &ctx, sleeper);
    fail_with(&server, 503, 1000);
    // the first call's second attempt opens it (2 of 2 failed)
    let e = client.recording(MBID).await.unwrap_err();
    assert_eq!(e.attempts, 2, "{e}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // the probe fails: open again, without the other retries
    let e = client.recording(MBID).await.unwrap_err();
    assert_eq!(e.attempts, 1, "{e}");
    assert!(client.recording(MBID).await.unwrap_err().attempts == 0);
    assert_eq!(server.stats().total, 3);
}

#[tokio::test]
async fn a_long_retry_after_parks_the_platform_for_the_whole_fleet() {
    let (server, conn, p, mut cfg) = fleet_test("park").await;
    cfg.cache.enabled = false;
    // two processes of one fleet: separate contexts sharing Redis under one prefix
    let ctx_a = PlatformContext::new(&cfg, Some(conn.clone()), None, &p);
    let ctx_b = PlatformContext::new(&cfg, Some(conn.clone()), None, &p);
    let a = Deezer::from_config(&cfg.deezer, &cfg.http, &ctx_a).unwrap();
    let b = Deezer::from_config(&cfg.deezer, &cfg.http, &ctx_b).unwrap();
    // Spotify has answered with Retry-After of 32,461 s (OneTagger#312)
    server.inject(Fault {
        status: 429,
        count: 1,
        retry_after: Some(32_461),
    });
    let started = std::time::Instant::now();
    let e = a.track("3135556").await.unwrap_err();
    assert_eq!(e.class, ErrorClass::RateLimit);
    assert_eq!(e.attempts, 1, "a long wait is not slept: {e}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("Deezer is parked until ")
            && msg.contains("(it asked us to wait 32461 s)")
            && msg.ends_with("continuing with the other platforms"),
        "{msg}"
    );
    // the other process fails fast without a request
    let e = b.track("3135556").await.unwrap_err();
    assert_eq!(e.class, ErrorClass::RateLimit);
    assert_eq!(e.attempts, 0);
    assert!(e.to_string().starts_with("Deezer is parked until "), "{e}");
    assert!(e.retry_after.unwrap() > Duration::from_secs(32_000));
    assert_eq!(server.stats().total, 1);
    assert!(started.elapsed() < Duration::from_secs(30), "nobody slept");
    let mut c = conn.clone();
    let ttl: i64 = c.pttl(parked_key(&p, "deezer")).await.unwrap();
    assert!(ttl > 32_000_000 && ttl <= 32_461_000, "{ttl}");

    // when the park is lifted (expired), calls go through again
    let _: () = c.del(parked_key(&p, "deezer")).await.unwrap();
    let ctx_c = PlatformContext::new(&cfg, Some(conn.clone()), None, &p);
    let c2 = Deezer::from_config(&cfg.deezer, &cfg.http, &ctx_c).unwrap();
    assert!(c2.track("3135556").await.unwrap().is_some());
    clean(&conn, &format!("{{{p}:*")).await;
}

#[tokio::test]
async fn a_short_retry_after_delays_every_caller_of_the_fleet() {
    let (server, conn, p, mut cfg) = fleet_test("hold").await;
    cfg.cache.enabled = false;
    let ctx_a = PlatformContext::new(&cfg, Some(conn.clone()), None, &p);
    let ctx_b = PlatformContext::new(&cfg, Some(conn.clone()), None, &p);
    // process A's retries record their wait instead of sleeping: what delays A's retry
    // (and B) is the fleet-wide hold the 429 put into Redis
    let (sleeper, waits) = recorder();
    let a = mb(&cfg, &ctx_a, sleeper);
    let b = MusicBrainz::from_config(&cfg.musicbrainz, &cfg.http, &ctx_b).unwrap();
    server.inject(Fault {
        status: 429,
        count: 1,
        retry_after: Some(2),
    });
    let t = a.recording(MBID).await.unwrap();
    assert!(t.is_some());
    assert!(waits.lock().unwrap()[0] >= Duration::from_secs(2));
    assert!(b.recording(MBID).await.unwrap().is_some());
    // the server saw the 429'd request, then nothing for the 2 s it asked for
    let arrivals = server.stats().arrivals_us["musicbrainz.recording"].clone();
    assert_eq!(arrivals.len(), 3);
    for later in &arrivals[1..] {
        assert!(
            later - arrivals[0] >= 1_990_000,
            "a request came {} ms after the 429: {arrivals:?}",
            (later - arrivals[0]) / 1000
        );
    }
    let mut c = conn.clone();
    let tat: Option<String> = c.get(tat_key(&p, "musicbrainz")).await.unwrap();
    assert!(tat.is_some(), "the schedule lives in Redis");
    clean(&conn, &format!("{{{p}:*")).await;
}

#[tokio::test]
async fn redis_gcra_books_slots_in_order_across_limiters_and_refuses_far_ones() {
    let conn = redis().await;
    let p = prefix("gcra");
    let rate = Rate {
        requests: 10,
        per: Duration::from_secs(1),
        burst: 1,
        margin: 0.0,
        jitter: Duration::ZERO,
        jitter_max: Duration::ZERO,
        lateness_factor: 4.0,
    };
    // two processes' limiters on one key
    let l1 = Limiter::redis("mb", rate, conn.clone(), &p, Arc::default());
    let l2 = Limiter::redis("mb", rate, conn.clone(), &p, Arc::default());
    assert!(l1.is_fleet_wide());
    let bound = Duration::from_secs(10);
    let mut waits = Vec::new();
    for i in 0..6 {
        let l = if i % 2 == 0 { &l1 } else { &l2 };
        match l.acquire(bound).await {
            Admission::Go(w) => waits.push(w),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(waits[0], Duration::ZERO);
    for w in waits.windows(2) {
        // each booking is one interval (100 ms) after the previous, minus the time between calls
        let step = w[1].saturating_sub(w[0]);
        assert!(
            step > Duration::from_millis(60) && step <= Duration::from_millis(100),
            "{waits:?}"
        );
    }
    // the next slot is ~600 ms away: a 100 ms bound refuses and books nothing
    let refused = l1.acquire(Duration::from_millis(100)).await;
    let Admission::Refused(far) = refused else {
        panic!("{refused:?}")
    };
    assert!(far > Duration::from_millis(400), "{far:?}");
    let Admission::Go(next) = l2.acquire(bound).await else {
        panic!("not admitted")
    };
    assert!(
        next <= far,
        "the refusal booked nothing: {next:?} vs {far:?}"
    );
    let mut c = conn.clone();
    let ttl: i64 = c.pttl(tat_key(&p, "mb")).await.unwrap();
    assert!(
        ttl > 0 && ttl < 3000,
        "the schedule key expires when idle: {ttl}"
    );
    // the sliding log: 10 sends in a second pass, the 11th (from the other process) waits
    for i in 0..10 {
        let l = if i % 2 == 0 { &l1 } else { &l2 };
        assert_eq!(l.confirm().await, Duration::ZERO, "send {i}");
    }
    let more = l2.confirm().await;
    assert!(
        more > Duration::from_millis(500) && more <= Duration::from_secs(1),
        "{more:?}"
    );
    // parking through one limiter refuses the other
    l1.hold(Duration::from_secs(120), true, "test").await;
    assert!(
        matches!(l2.acquire(bound).await, Admission::Parked(d) if d > Duration::from_secs(100))
    );
    let why: String = c.get(parked_key(&p, "mb")).await.unwrap();
    assert_eq!(why, "test");
    clean(&conn, &format!("{{{p}:*")).await;
}

#[tokio::test]
async fn repeats_are_served_by_l1_then_l2_then_l3_without_a_request() {
    let server = server().await;
    let conn = redis().await;
    let (pool, _db) = migrated_pool().await;
    let p = prefix("cache");
    let cfg = config(&server);
    let ctx = |cfg: &PlatformsConfig| {
        PlatformContext::new(cfg, Some(conn.clone()), Some(pool.clone()), &p)
    };

    let ctx1 = ctx(&cfg);
    let mb1 = MusicBrainz::from_config(&cfg.musicbrainz, &cfg.http, &ctx1).unwrap();
    let first = mb1.recording(MBID).await.unwrap().unwrap();
    assert_eq!(server.stats().total, 1);
    // same process: L1
    assert_eq!(mb1.recording(MBID).await.unwrap().unwrap(), first);
    assert_eq!(server.stats().total, 1);
    assert_eq!(ctx1.cache_stats().l1, (1, 1));

    // a new process (fresh L1): L2
    let ctx2 = ctx(&cfg);
    let mb2 = MusicBrainz::from_config(&cfg.musicbrainz, &cfg.http, &ctx2).unwrap();
    assert_eq!(mb2.recording(MBID).await.unwrap().unwrap(), first);
    assert_eq!(server.stats().total, 1);
    assert_eq!(ctx2.cache_stats().l2, (1, 0));

    // Redis lost this test's cache keys: L3 answers and refills L2
    clean(&conn, &format!("{p}:cache:*")).await;
    let ctx3 = ctx(&cfg);
    let mb3 = MusicBrainz::from_config(&cfg.musicbrainz, &cfg.http, &ctx3).unwrap();
    assert_eq!(mb3.recording(MBID).await.unwrap().unwrap(), first);
    assert_eq!(server.stats().total, 1);
    let s = ctx3.cache_stats();
    assert_eq!((s.l2, s.l3), ((0, 1), (1, 0)), "{s:?}");
    let mut c = conn.clone();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{p}:cache:*"))
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "L2 refilled from L3: {keys:?}");
    let ttl: i64 = c.pttl(&keys[0]).await.unwrap();
    assert!(ttl > 23 * 3600 * 1000, "L2 keeps it for its TTL: {ttl}");

    // searches and ISRC lookups too: the repeat costs nothing
    mb3.search_recordings("Fleetwood Mac", "Dreams")
        .await
        .unwrap();
    mb3.search_recordings("Fleetwood Mac", "Dreams")
        .await
        .unwrap();
    assert_eq!(server.stats().total, 2);
    assert_eq!(server.stats().routes["musicbrainz.recording_search"], 1);

    // the L3 row carries the exact recorded bytes
    let body: Vec<u8> = sqlx::query_scalar(
        "SELECT body FROM platform_cache WHERE platform = 'musicbrainz' AND cache_key LIKE '%/recording/ab80a174%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let kit = cratedigger_e2e::kit::kit_dir();
    assert_eq!(
        body,
        std::fs::read(kit.join(
            "fixtures/musicbrainz/recording_lookup_ab80a174_inc-isrcs-artist-credits-releases.json"
        ))
        .unwrap()
    );
    clean(&conn, &format!("{p}:cache:*")).await;
}

#[tokio::test]
async fn identical_lookups_in_flight_at_once_cost_one_request() {
    let (server, conn, p, cfg) = fleet_test("flight").await;
    server.set_latency(Duration::from_millis(200));
    let ctx = PlatformContext::new(&cfg, Some(conn.clone()), None, &p);
    let mb = Arc::new(MusicBrainz::from_config(&cfg.musicbrainz, &cfg.http, &ctx).unwrap());

    // eight playlist lines naming the same recording, researched at the same moment
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let mb = mb.clone();
            tokio::spawn(async move { mb.recording(MBID).await })
        })
        .collect();
    let mut answers = Vec::new();
    for c in calls {
        answers.push(c.await.unwrap().unwrap().expect("the recording is found"));
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "every caller gets the same answer"
    );
    assert_eq!(
        server.stats().total,
        1,
        "one request for eight identical lookups"
    );
    let s = ctx.cache_stats();
    assert_eq!(s.coalesced, 7, "{s:?}");

    // a different question is not held back by the first one's flight
    server.set_latency(Duration::ZERO);
    let (a, b) = tokio::join!(
        mb.search_recordings("Fleetwood Mac", "Dreams"),
        mb.search_recordings("Daft Punk", "Around the World")
    );
    a.unwrap();
    b.unwrap();
    assert_eq!(server.stats().total, 3);
    assert_eq!(ctx.cache_stats().coalesced, 7);
    clean(&conn, &format!("{p}:*")).await;
}

#[tokio::test]
async fn the_same_question_from_two_processes_at_once_costs_one_request() {
    let (server, conn, p, cfg) = fleet_test("fleet-flight").await;
    server.set_latency(Duration::from_millis(300));
    // two scout processes of one fleet: own L1 and in-process flights, one Redis
    let ctx_a = PlatformContext::new(&cfg, Some(conn.clone()), None, &p);
    let ctx_b = PlatformContext::new(&cfg, Some(conn.clone()), None, &p);
    let a = MusicBrainz::from_config(&cfg.musicbrainz, &cfg.http, &ctx_a).unwrap();
    let b = MusicBrainz::from_config(&cfg.musicbrainz, &cfg.http, &ctx_b).unwrap();
    let (ra, rb) = tokio::join!(a.recording(MBID), b.recording(MBID));
    let (ra, rb) = (ra.unwrap().unwrap(), rb.unwrap().unwrap());
    assert_eq!(ra, rb, "both get the one answer");
    assert_eq!(server.stats().total, 1, "one request for the fleet");
    assert_eq!(
        ctx_a.cache_stats().coalesced + ctx_b.cache_stats().coalesced,
        1,
        "the other process waited for it"
    );
    // the claim is given back once the answer is cached
    let mut c = conn.clone();
    let flights: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{p}:cache-flight:*"))
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(flights.is_empty(), "{flights:?}");

    // a "not found" travels the same way (negative cache in L2)
    let missing = "00000000-0000-4000-8000-000000000000";
    let (ma, mb_) = tokio::join!(a.recording(missing), b.recording(missing));
    assert_eq!((ma.unwrap(), mb_.unwrap()), (None, None));
    assert_eq!(server.stats().total, 2);
    clean(&conn, &format!("{p}:*")).await;
}

#[tokio::test]
async fn expired_l3_rows_are_purged_in_bounded_batches_and_live_ones_stay() {
    let (pool, _db) = migrated_pool().await;
    for (i, age) in [
        ("a", "-1 hour"),
        ("b", "-1 second"),
        ("c", "-2 days"),
        ("d", "+1 day"),
    ] {
        sqlx::query(
            "INSERT INTO platform_cache (platform, cache_key, body, expires_at) \
             VALUES ('musicbrainz', $1, '{}', now() + $2::interval)",
        )
        .bind(i)
        .bind(age)
        .execute(&pool)
        .await
        .unwrap();
    }
    let purge = cratedigger_platforms::cache::purge_expired;
    assert_eq!(purge(&pool, 2).await.unwrap(), 2, "at most the batch size");
    assert_eq!(purge(&pool, 2).await.unwrap(), 1);
    assert_eq!(purge(&pool, 2).await.unwrap(), 0);
    let left: Vec<String> = sqlx::query_scalar("SELECT cache_key FROM platform_cache")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(left, vec!["d".to_string()], "the live answer stays");
}

/// A fresh database with the migrations applied (the `platform_cache` table among them).
async fn migrated_pool() -> (sqlx::PgPool, cratedigger_store::testing::TestDatabase) {
    let (url, db) = cratedigger_store::testing::fresh_database().await;
    let store = cratedigger_store::Store::connect(&url, 2).await.unwrap();
    store.migrate().await.unwrap();
    (sqlx::PgPool::connect(&url).await.unwrap(), db)
}

#[tokio::test]
async fn not_found_answers_are_cached_briefly_and_only_in_l1_and_l2() {
    let server = server().await;
    let conn = redis().await;
    let (pool, _db) = migrated_pool().await;
    let p = prefix("negative");
    let mut cfg = config(&server);
    cfg.cache = CacheConfig {
        negative_ttl_secs: 120,
        ..CacheConfig::default()
    };
    let ctx1 = PlatformContext::new(&cfg, Some(conn.clone()), Some(pool.clone()), &p);
    let dz = Deezer::from_config(&cfg.deezer, &cfg.http, &ctx1).unwrap();
    // Deezer answers an unknown ISRC with its "no data" error object and HTTP 200 (real payload)
    assert!(dz.track_by_isrc("XXXXX0000000").await.unwrap().is_empty());
    assert!(dz.track_by_isrc("XXXXX0000000").await.unwrap().is_empty());
    assert_eq!(server.stats().total, 1);
    // MusicBrainz answers 404
    let mb = MusicBrainz::from_config(&cfg.musicbrainz, &cfg.http, &ctx1).unwrap();
    let unknown = "00000000-0000-0000-0000-000000000000";
    assert!(mb.recording(unknown).await.unwrap().is_none());
    assert!(mb.recording(unknown).await.unwrap().is_none());
    assert_eq!(server.stats().total, 2);

    // another process: L2 has the negative answers, with the short TTL
    let ctx2 = PlatformContext::new(&cfg, Some(conn.clone()), Some(pool.clone()), &p);
    let mb2 = MusicBrainz::from_config(&cfg.musicbrainz, &cfg.http, &ctx2).unwrap();
    assert!(mb2.recording(unknown).await.unwrap().is_none());
    assert_eq!(server.stats().total, 2);
    let mut c = conn.clone();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{p}:cache:*"))
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for k in &keys {
        let ttl: i64 = c.pttl(k).await.unwrap();
        assert!(ttl > 0 && ttl <= 120_000, "{k}: {ttl}");
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM platform_cache")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 0, "negative answers are not kept in L3");
    clean(&conn, &format!("{p}:cache:*")).await;
}

#[tokio::test]
async fn without_redis_the_limiter_is_per_process_and_rates_come_from_config() {
    let mut cfg = PlatformsConfig::default();
    cfg.limits.insert(
        "musicbrainz".into(),
        cratedigger_platforms::limiter::RateLimitConfig {
            requests: Some(5),
            per_secs: Some(1.0),
            burst: None,
        },
    );
    let ctx = PlatformContext::local(&cfg);
    let mb = MusicBrainz::from_config(&cfg.musicbrainz, &HttpConfig::default(), &ctx).unwrap();
    let limiter = ctx.limiter(mb.info());
    assert!(!limiter.is_fleet_wide());
    assert_eq!(limiter.rate().requests, 5);
    // Deezer keeps its published default
    let dz_rate = ctx.rate_for(
        Deezer::from_config(&cfg.deezer, &cfg.http, &ctx)
            .unwrap()
            .info(),
    );
    assert_eq!(
        (dz_rate.requests, dz_rate.per),
        (50, Duration::from_secs(5))
    );
    let _ = RateLimit {
        requests: 1,
        per: Duration::from_secs(1),
    };
}
