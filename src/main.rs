use clap::Parser;

fn main() {
    let cli = omakase::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OMAKASE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    if let Err(e) = omakase::cli::run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
