//! One writer per instance at a time. Commands that change an instance's container, volume or
//! state hold an exclusive lock on `<state dir>/<instance>.lock` for their whole run; a second one
//! waits, bounded, and then sees what the first left. The lock is the operating system's file
//! lock, so it goes away with the process that held it: a killed `kcdev up` never leaves a stale
//! lock behind.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::instance::Instance;
use crate::progress::Reporter;
use crate::state::StateStore;

const POLL: Duration = Duration::from_millis(200);

/// Held while an operation changes an instance; released when dropped.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

/// Why the lock could not be had.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another kcdev kept the instance for longer than the bound.
    #[error(
        "instance {instance} is still busy after {} s: {holder}",
        waited.as_secs()
    )]
    Busy {
        instance: String,
        holder: String,
        waited: Duration,
    },
    #[error("cannot lock {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl InstanceLock {
    /// Takes the instance's lock for `operation` (`"up"`, `"down"`), waiting at most `bound` for
    /// another holder to finish and telling the reporter what it waits for.
    pub async fn acquire(
        store: &StateStore,
        instance: &Instance,
        operation: &str,
        bound: Duration,
        reporter: &dyn Reporter,
    ) -> Result<Self, LockError> {
        let path = store.lock_path(instance);
        let io_error = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_error)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error)?;
        let started = Instant::now();
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    let holder = describe_holder(&mut file);
                    if started.elapsed() >= bound {
                        return Err(LockError::Busy {
                            instance: instance.to_string(),
                            holder,
                            waited: started.elapsed(),
                        });
                    }
                    if !told {
                        reporter.step(&format!(
                            "Waiting for {holder} to finish with instance {instance} (at most {} s)",
                            bound.as_secs()
                        ));
                        told = true;
                    }
                    tokio::time::sleep(POLL).await;
                }
                Err(TryLockError::Error(source)) => return Err(io_error(source)),
            }
        }
        // Who holds it, for the message a waiting command shows.
        let note = format!("kcdev {operation} (pid {})", std::process::id());
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(note.as_bytes()));
        Ok(Self { _file: file })
    }
}

fn describe_holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
    let text = text.trim();
    if text.is_empty() {
        "another kcdev".to_owned()
    } else {
        text.chars().take(80).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::SilentReporter;

    #[tokio::test]
    async fn a_second_holder_waits_and_then_gives_up_naming_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::at(dir.path());
        let instance: Instance = "locked".parse().unwrap();
        let first = InstanceLock::acquire(&store, &instance, "up", Duration::ZERO, &SilentReporter)
            .await
            .unwrap();
        let err = InstanceLock::acquire(
            &store,
            &instance,
            "down",
            Duration::from_millis(300),
            &SilentReporter,
        )
        .await
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("kcdev up (pid"), "{message}");
        drop(first);
        InstanceLock::acquire(&store, &instance, "down", Duration::ZERO, &SilentReporter)
            .await
            .unwrap();
    }
}
