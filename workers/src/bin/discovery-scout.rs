//! The `discovery-scout` worker binary: one role, scaled horizontally.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match cratedigger_workers::fleet::worker_main(cratedigger_workers::Role::DiscoveryScout).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("discovery-scout: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
