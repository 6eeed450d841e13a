//! The `acquisition-scout` worker binary: one role, scaled horizontally.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match cratedigger_workers::fleet::worker_main(cratedigger_workers::Role::AcquisitionScout).await
    {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("acquisition-scout: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
