use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match folio::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not usage errors
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    ExitCode::from(folio::cli::run(cli))
}

// Parsing 100,000 records allocates millions of small strings on two
// threads; mimalloc does this markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
