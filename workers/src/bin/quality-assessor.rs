//! The `quality-assessor` worker binary: one role, scaled horizontally.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match cratedigger_workers::fleet::worker_main(cratedigger_workers::Role::QualityAssessor).await
    {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quality-assessor: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
