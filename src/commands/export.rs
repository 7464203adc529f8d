use anyhow::Context as _;
use kcdev::ops::{self, ExportFormat, ExportOptions};

use super::{Ctx, ExitStatus};
use crate::cli::{ExportArgs, ExportFormatArg};
use crate::output::render_export_placeholders;

pub fn run(ctx: &Ctx, args: ExportArgs) -> anyhow::Result<ExitStatus> {
    let options = ExportOptions {
        context: ctx.instance.clone(),
        format: match args.format {
            ExportFormatArg::Keycloak => ExportFormat::Keycloak,
            ExportFormatArg::Operator => ExportFormat::Operator,
        },
        include_test_users: args.include_test_users,
        keycloak_cr: args.keycloak_cr,
    };
    let report = ops::export(&options).with_context(|| {
        format!(
            "cannot export the realm of instance {}",
            ctx.instance.instance
        )
    })?;
    if let Some(path) = &args.provider_jar {
        write_atomically(path, kcdev::provider::PROVIDER_JAR)
            .with_context(|| format!("cannot write {}", path.display()))?;
        ctx.printer.note(&format!(
            "Wrote kcdev's Keycloak provider to {}: put it in the server's providers/ directory and run `kc.sh build` (or restart with it), then `kcdev up` gives the realm the policy that lets registered clients step up.",
            path.display()
        ));
    }
    match &args.output {
        Some(path) => write_atomically(path, report.document.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None if ctx.printer.json() => ctx.printer.json_value(&report),
        None => ctx.printer.data(&report.document),
    }
    ctx.printer
        .note(&render_export_placeholders(&report, args.output.as_deref()));
    Ok(ExitStatus::Success)
}

/// Writes through a temporary file in the same directory, so a failure never leaves half a file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.persist(path).map_err(|err| err.error)?;
    Ok(())
}
