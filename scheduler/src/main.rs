//! `cratedigger`: the CLI, the scheduler (`serve`) and the whole fleet in one process (`up`).

use clap::Parser;
use cratedigger::api::{self, ApiState};
use cratedigger::cli::{
    Cli, CliError, Client, Command, DlqAction, describe_item, read_playlist, sync_items,
    wait_for_sync,
};
use cratedigger::{explain, review};
use cratedigger_workers::fleet::{run_roles, stop_on_signal};
use cratedigger_workers::{Fleet, Role, Settings};
use serde_json::json;
use std::process::ExitCode;
use std::time::Duration;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cratedigger: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Local and offline: no settings, scheduler or network needed.
    if let Command::Inspect {
        platform,
        kind,
        file,
        raw,
    } = &cli.command
    {
        print!(
            "{}",
            cratedigger::inspect::run(platform, kind, file.as_deref(), *raw)?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Verify {
        file,
        json,
        duration,
    } = &cli.command
    {
        let expected = duration
            .as_deref()
            .map(cratedigger::verify::parse_duration)
            .transpose()?;
        let (out, code) = cratedigger::verify::run(file.clone(), *json, expected).await?;
        print!("{out}");
        return Ok(code);
    }
    let settings = Settings::load(cli.config.as_deref())?;
    let api_url = cli.api.clone().unwrap_or_else(|| settings.api.url.clone());
    let client = || Client::new(&api_url, settings.api.token.clone());
    match cli.command {
        Command::Rekordbox { action } => {
            return cratedigger::rekordbox_cmd::run(action, cli.config.as_deref(), &settings).await;
        }
        Command::Up => {
            cratedigger_fleet::telemetry::init_logging();
            serve(settings, &Role::ALL, cli.config.as_deref()).await?;
        }
        Command::Serve => {
            cratedigger_fleet::telemetry::init_logging();
            serve(settings, &[], cli.config.as_deref()).await?;
        }
        Command::Sync {
            file,
            name,
            lane,
            wait,
            json,
            timeout,
        } => {
            let c = client();
            let (created, source) = if cratedigger_platforms::sources::is_url(&file) {
                // The scheduler reads the playlist or chart, every page of it.
                let url = file.trim();
                (
                    c.post_url(url, name.as_deref(), &lane).await?,
                    url.to_string(),
                )
            } else {
                let (bytes, source) = read_playlist(&file)?;
                let name = name.unwrap_or_else(|| source.clone());
                (c.post_playlist(bytes, &source, &name, &lane).await?, source)
            };
            let sync_id = created["sync_id"].as_str().unwrap_or_default().to_string();
            if !json {
                println!(
                    "sync {sync_id}: {} tracks queued from {source} ({})",
                    created["items"],
                    created["format"].as_str().unwrap_or("?")
                );
                for s in created["skipped"].as_array().into_iter().flatten() {
                    println!(
                        "  skipped line {}: {} ({})",
                        s["line_no"],
                        s["input"].as_str().unwrap_or(""),
                        s["reason"].as_str().unwrap_or("")
                    );
                }
            }
            if !wait && !json {
                println!("follow it with: cratedigger items --sync {sync_id}");
                return Ok(ExitCode::SUCCESS);
            }
            let progress = wait_for_sync(&c, &sync_id, Duration::from_secs(timeout), json).await?;
            let items = sync_items(&c, &sync_id).await?;
            if json {
                let doc = json!({
                    "sync_id": sync_id,
                    "name": progress["name"],
                    "total": progress["total"],
                    "counts": progress["counts"],
                    "skipped_lines": created["skipped"],
                    "items": items,
                });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                for item in &items {
                    println!("{}", describe_item(item));
                }
                println!("\n{} items: {}", items.len(), summary(&progress["counts"]));
            }
        }
        Command::Status { json } => {
            let s = client().get("/v1/status").await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                println!("items: {}", summary(&s["items"]));
                for q in s["queues"].as_array().into_iter().flatten() {
                    println!(
                        "queue {:<12} interactive {:>6}  batch {:>6}  background {:>6}  in flight {:>5}  delayed {:>5}  dead {:>5}",
                        q["queue"].as_str().unwrap_or("?"),
                        q["lanes"]["interactive"],
                        q["lanes"]["batch"],
                        q["lanes"]["background"],
                        q["inflight"],
                        q["delayed"],
                        q["dead"]
                    );
                }
            }
        }
        Command::Items {
            state,
            sync,
            limit,
            json,
        } => {
            let mut path = format!("/v1/items?limit={limit}");
            if let Some(s) = state {
                path.push_str(&format!("&state={s}"));
            }
            if let Some(s) = sync {
                path.push_str(&format!("&sync_id={s}"));
            }
            let items = client().get(&path).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else {
                for item in items.as_array().into_iter().flatten() {
                    println!("{}", describe_item(item));
                }
            }
        }
        Command::Dlq {
            action: DlqAction::List { queue, limit, json },
        } => {
            let mut path = format!("/v1/dlq?limit={limit}");
            if let Some(q) = queue {
                path.push_str(&format!("&queue={q}"));
            }
            let dead = client().get(&path).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&dead)?);
            } else {
                let list = dead.as_array().cloned().unwrap_or_default();
                if list.is_empty() {
                    println!("the dead-letter list is empty");
                }
                for d in list {
                    println!(
                        "{} {}: {} ({}, {} attempts)",
                        d["queue"].as_str().unwrap_or("?"),
                        d["qid"].as_str().unwrap_or("?"),
                        d["reason"]["reason"].as_str().unwrap_or("?"),
                        d["reason"]["class"].as_str().unwrap_or("?"),
                        d["reason"]["attempts"]
                    );
                }
            }
        }
        Command::Match { a, b, json } => {
            let e = explain::explain_match(&a, &b, &settings.matching)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&e)?);
            } else {
                print!("{}", explain::render_match(&e));
            }
        }
        Command::Key { value, to, json } => {
            let e = explain::explain_key(&value, to.as_deref(), &settings.matching)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&explain::key_json(&e))?);
            } else {
                print!("{}", explain::render_key(&e, to.is_some()));
            }
        }
        Command::Bpm {
            values,
            genre,
            json,
        } => {
            let e = explain::explain_bpm(&values, genre.as_deref(), &settings.matching)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&e)?);
            } else {
                print!("{}", explain::render_bpm(&e));
            }
        }
        Command::Review { sync, json } => {
            if json {
                let path = match &sync {
                    Some(id) => format!("/v1/review?sync={id}&limit=500"),
                    None => "/v1/review?limit=500".into(),
                };
                println!(
                    "{}",
                    serde_json::to_string_pretty(&client().get(&path).await?)?
                );
            } else {
                let (a, r) = review::review_interactive(&client(), sync.as_deref()).await?;
                println!("{a} approved, {r} rejected");
            }
        }
        Command::Approve { item, rank } => {
            let r = client()
                .post_json(
                    &format!("/v1/items/{item}/approve"),
                    &json!({ "rank": rank, "by": "cli" }),
                )
                .await?;
            println!(
                "approved #{rank} of {item}: {}",
                review::describe_candidate(&r["candidate"], false).trim()
            );
        }
        Command::Reject { item, reason } => {
            client()
                .post_json(
                    &format!("/v1/items/{item}/reject"),
                    &json!({ "reason": reason, "by": "cli" }),
                )
                .await?;
            println!("rejected {item}; nothing will be downloaded");
        }
        Command::Candidates { item, json } => {
            let v = client()
                .get(&format!("/v1/items/{item}/candidates"))
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!("{}", describe_item(&v["item"]));
                for c in v["all"].as_array().into_iter().flatten() {
                    println!("{}", review::describe_candidate(c, true));
                }
            }
        }
        Command::Chat {
            message,
            conversation,
            json,
        } => {
            let events = cratedigger::lead::chat::run_cli(
                &api_url,
                settings.api.token.as_deref(),
                &message,
                conversation.as_deref(),
                json,
            )
            .await?;
            if !events.iter().any(|e| e.event == "done") {
                return Err(CliError(
                    "the chat stream ended before the answer was complete".into(),
                )
                .into());
            }
        }
        // handled before the settings are loaded
        Command::Inspect { .. } | Command::Verify { .. } => {}
        Command::Dlq {
            action: DlqAction::Redrive { queue, max },
        } => {
            let r = client()
                .post_json("/v1/dlq/redrive", &json!({ "queue": queue, "max": max }))
                .await?;
            println!("re-driven: {}", r["redriven"]);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn summary(counts: &serde_json::Value) -> String {
    let parts: Vec<String> = counts
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.as_i64().unwrap_or(0) > 0)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// The scheduler (API, reconciler, gauges) plus `roles` in this process.
async fn serve(
    settings: Settings,
    roles: &[Role],
    config_file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = settings.api.bind.parse().map_err(|e| {
        CliError(format!(
            "CRATEDIGGER__API__BIND '{}' is not an address: {e}",
            settings.api.bind
        ))
    })?;
    let token = api::token_policy(&addr, settings.api.token.as_deref())?;
    let fleet = Fleet::connect(settings).await?;
    let store = fleet.store().await?;
    let stop = stop_on_signal();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError(format!("cannot listen on {addr}: {e}")))?;
    let bound = listener.local_addr()?;
    let state = ApiState {
        fleet: fleet.clone(),
        store: store.clone(),
        token,
        throttle: Default::default(),
    };
    let mut api_stop = stop.clone();
    // the peer address is what wrong-token throttling counts by (throttle.rs)
    let app = api::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = api_stop.wait_for(|s| *s).await;
    });
    tokio::spawn(cratedigger::reconciler::run(
        fleet.clone(),
        store.clone(),
        stop.clone(),
    ));
    tokio::spawn(api::export_gauges(
        fleet.clone(),
        store.clone(),
        stop.clone(),
    ));
    let acq = &fleet.settings.acquisition;
    if acq.enabled && acq.rekordbox {
        // A configuration error (no path, a key in the file) stops the start-up with its
        // sentence: the user asked for Rekordbox writing.
        let cfg = cratedigger_rekordbox::RekordboxConfig::load(config_file)?;
        tokio::spawn(cratedigger::rekordbox_sync::run(
            store.clone(),
            cfg,
            Duration::from_secs(acq.rekordbox_interval_secs),
            stop.clone(),
        ));
    }
    cratedigger_fleet::telemetry::set_ready(true);
    tracing::info!(%bound, roles = ?roles.iter().map(|r| r.name()).collect::<Vec<_>>(), "cratedigger scheduler listening");
    println!("cratedigger listening on http://{bound}");
    let (served, workers) = tokio::join!(
        async { server.await.map_err(anyhow::Error::from) },
        run_roles(&fleet, roles, stop.clone())
    );
    served?;
    workers?;
    Ok(())
}
