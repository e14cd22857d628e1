use clap::Parser;
use rollcall::cli::{self, Cli};
use rollcall::configuration::Settings;
use std::path::Path;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(Path::new("config")) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    rollcall::ops::telemetry::init(&settings.log);
    match cli::run(cli, settings).await {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("rollcall: {error:#}");
            ExitCode::FAILURE
        }
    }
}
