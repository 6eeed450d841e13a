//! The `research-lead` worker binary: one role, scaled horizontally.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match cratedigger_workers::fleet::worker_main(cratedigger_workers::Role::ResearchLead).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("research-lead: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
