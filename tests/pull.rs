//! The pull path, for real: Debian's `docker-registry` serves an image on 127.0.0.1 and
//! `kcdev up --image 127.0.0.1:<port>/...` pulls it with per-layer byte progress, then runs it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::process::{Child, Command};
use std::time::Duration;

use bollard::query_parameters::{PushImageOptionsBuilder, RemoveImageOptionsBuilder};
use common::{DerivedImage, Kcdev, derive_test_image, docker, free_port};
use futures_util::TryStreamExt;
use rand::RngCore;

/// A `docker-registry` process serving from a temporary directory; stopped on drop.
struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Registry {
    #[allow(clippy::zombie_processes)] // `Drop` kills and waits for it
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("docker-registry is installed by scripts/prepare-test-env.sh");
        for _ in 0..100 {
            if port_check::is_port_reachable(("127.0.0.1", port)) {
                return Self {
                    child,
                    port,
                    _dir: dir,
                };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("docker-registry did not listen on 127.0.0.1:{port}");
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test image plus one layer of 8 MiB of random bytes, so that pulling it must really
/// download something whatever the local image store already holds.
async fn image_with_unique_layer(repository: &str, tag: &str) -> DerivedImage {
    let mut payload = vec![0u8; 8 << 20];
    rand::rng().fill_bytes(&mut payload);
    let mut archive = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(payload.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    archive
        .append_data(&mut header, "kcdev-pull-test.bin", payload.as_slice())
        .unwrap();
    derive_test_image(repository, tag, None, Some(archive.into_inner().unwrap())).await
}

async fn remove_image(image: &str) {
    let _ = docker()
        .remove_image(
            image,
            Some(RemoveImageOptionsBuilder::default().force(true).build()),
            None,
        )
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn up_pulls_from_a_registry_with_byte_progress() {
    let registry = Registry::start();
    let repository = format!("127.0.0.1:{}/kcdev-test/keycloak-pull", registry.port);
    let tag = kcdev::defaults::keycloak_version();
    let image = format!("{repository}:{tag}");
    // Removed when the test ends (after the instance): the pulled copy has the same name.
    let _image = image_with_unique_layer(&repository, tag).await;
    docker()
        .push_image(
            &repository,
            Some(PushImageOptionsBuilder::default().tag(tag).build()),
            None,
        )
        .try_collect::<Vec<_>>()
        .await
        .expect("push to the local registry");
    remove_image(&image).await;
    assert!(
        docker().inspect_image(&image).await.is_err(),
        "the image must be absent before the pull"
    );

    let kcdev = Kcdev::new("pull");
    let mut args = kcdev.up_flags_with_image(&image);
    args.push("--json".to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = kcdev.run(&args).ok();
    // Not a terminal: plain lines, one per layer status, with byte counts while downloading.
    run.stderr_has(&[
        &format!("==> Pulling {image}"),
        "Already exists",
        "Pull complete",
        &format!("==> Pulled {image}"),
    ]);
    let downloading = run
        .stderr
        .lines()
        .find(|line| line.contains("Downloading") && line.contains(" / "))
        .unwrap_or_else(|| panic!("no byte progress for the downloaded layer:\n{}", run.stderr));
    assert!(
        downloading.contains("MiB") || downloading.contains("KiB"),
        "{downloading}"
    );
    let report = run.json();
    assert_eq!(report["image"], image.as_str());
    assert_eq!(report["container_action"], "created");
    let inspect = docker()
        .inspect_container(&format!("kcdev-{}-keycloak", kcdev.instance), None)
        .await
        .unwrap();
    // It runs the optimized image kcdev derived from the pulled one.
    let config = inspect.config.unwrap();
    assert_eq!(config.labels.unwrap()["dev.kcdev.base-image"], image);
    assert_eq!(config.image.as_deref(), report["run_image"].as_str());

    // `--pull missing` (the default) does not pull again.
    let again = kcdev.run(&args).ok();
    assert!(!again.stderr.contains("Pulling"), "{}", again.stderr);

    kcdev.run(&["down", "--volumes"]).ok();
    // The images derived from this one-off image go with it.
    kcdev.run(&["prune", "--image", &image]).ok();
}
