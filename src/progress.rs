//! Progress events. Library code never prints: it reports what it is doing through [`Reporter`],
//! and the terminal layer decides how (or whether) to show it.

use std::time::Duration;

/// One layer's progress while an image is pulled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerProgress<'a> {
    /// Layer id as the engine reports it.
    pub layer: &'a str,
    /// Engine status text ("Downloading", "Extracting", "Pull complete", ...).
    pub status: &'a str,
    /// Bytes done and total, when the engine reports them.
    pub bytes: Option<(u64, u64)>,
}

/// Receives progress events from long-running library operations.
///
/// Every method has a no-op default, so a reporter implements only what it shows.
pub trait Reporter: Send + Sync {
    /// A step of the operation has started ("Creating container", ...).
    fn step(&self, _message: &str) {}
    /// An image pull has started.
    fn pull_started(&self, _image: &str) {}
    /// A layer of the image being pulled made progress.
    fn pull_progress(&self, _progress: &LayerProgress<'_>) {}
    /// The image pull has finished.
    fn pull_finished(&self, _image: &str) {}
    /// Still waiting for Keycloak to become ready.
    fn waiting(&self, _elapsed: Duration, _last_status: &str) {}
    /// The wait for readiness is over (whether or not it succeeded).
    fn wait_finished(&self) {}
    /// kcdev has started deriving an optimized image from `base` (once per image and options).
    fn derive_started(&self, _base: &str, _derived: &str) {}
    /// The derivation is still running; `last_line` is what `kc.sh build` printed last.
    fn deriving(&self, _elapsed: Duration, _last_line: &str) {}
    /// The derivation is over (whether or not it succeeded).
    fn derive_finished(&self, _derived: &str) {}
}

/// A reporter that shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct SilentReporter;

impl Reporter for SilentReporter {}
