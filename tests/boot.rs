//! How Keycloak boots: the optimized image derived once and reused, the seeded database that a
//! new volume starts from (with an admin and keys of its own per instance), `--boot dev`, a small
//! memory limit, and `kcdev prune`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Kcdev, derive_test_image, docker};
use serde_json::Value;

/// `up` on `image` with auto ports, as JSON, with its stderr.
fn up(kcdev: &Kcdev, image: &str, extra: &[&str]) -> (Value, String) {
    let mut args = Kcdev::auto_port_up_args(image);
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = kcdev.run(&args).ok();
    (run.json(), run.stderr)
}

/// Whether the JVM in `instance`'s Keycloak container has the class-data sharing archive of a
/// seeded image mapped: it is in the process's memory map only when the JVM uses it (with
/// `-Xshare:auto` an unusable archive is dropped without a word).
fn maps_class_archive(kcdev: &Kcdev) -> bool {
    let container = format!("kcdev-{}-keycloak", kcdev.instance);
    let output = Command::new("docker")
        .args(["exec", &container, "bash", "-c", "cat /proc/[0-9]*/maps"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).contains("/opt/keycloak/lib/kcdev-classes.jsa")
}

/// The classes `image`'s class archive holds, as the JVM lists them (`-XX:+PrintSharedArchiveAndExit`
/// maps the archive, checks it against the classpath and lists what it holds).
fn archived_classes(image: &str) -> String {
    let output = Command::new("docker")
        .args(["run", "--rm", "--entrypoint", "bash", image, "-c"])
        .arg(
            "exec \"${JAVA_HOME:+$JAVA_HOME/bin/}java\" -XX:SharedArchiveFile=/opt/keycloak/lib/kcdev-classes.jsa \
             -XX:+PrintSharedArchiveAndExit -cp /opt/keycloak/lib/quarkus-run.jar",
        )
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The key ids of `realm`'s JWKS.
async fn realm_key_ids(kcdev: &Kcdev, realm: &str) -> Vec<String> {
    let port = kcdev.state()["container"]["http_port"].as_u64().unwrap();
    let jwks: Value = reqwest::get(format!(
        "http://127.0.0.1:{port}/realms/{realm}/protocol/openid-connect/certs"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// The default realm's keys (id and public key): each instance's own. (The bearer-only clients'
/// secrets and the default password's credential stay as seeded: nothing logs in with the first,
/// and the second's password is public.)
async fn realm_public_keys(kcdev: &Kcdev) -> Vec<String> {
    let admin = kcdev.admin().await;
    let keys = admin.api().realm_keys_get("fastmcp").await.unwrap();
    keys.keys
        .unwrap_or_default()
        .into_iter()
        .map(|key| format!("{:?} {:?}", key.kid, key.public_key))
        .collect()
}

async fn wait_until_exited(container: &str, timeout: Duration) {
    let started = Instant::now();
    loop {
        let state = docker()
            .inspect_container(container, None)
            .await
            .map(|inspect| inspect.state.unwrap_or_default());
        match state {
            Ok(state) if state.running != Some(true) => {
                assert_eq!(state.exit_code, Some(0), "{container} failed");
                return;
            }
            Err(_) => return,
            Ok(_) => {}
        }
        assert!(started.elapsed() < timeout, "{container} still running");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_optimized_image_is_derived_once_and_seeded_instances_are_their_own() {
    // A base image of its own (another id), so its derived images are new to this machine.
    let repository = format!("kcdev-test/boot-base-{}", std::process::id());
    let base = derive_test_image(
        &repository,
        kcdev::defaults::keycloak_version(),
        Some("LABEL dev.kcdev.test=boot"),
        None,
    )
    .await;

    let first = Kcdev::new("bootfirst");
    let (report, stderr) = up(&first, &base.0, &[]);
    assert_eq!(report["boot"], "built");
    assert!(stderr.contains("Building an optimized image"), "{stderr}");
    let built = report["run_image"].as_str().unwrap().to_owned();
    assert!(built.starts_with("kcdev/keycloak-optimized:") && built.ends_with("-built"));
    assert!(
        stderr.contains("Initializing a database image in the background"),
        "{stderr}"
    );
    let key = built
        .trim_end_matches("-built")
        .rsplit('-')
        .next()
        .unwrap()
        .to_owned();
    first.run(&["token", "-q"]).ok();
    assert!(!maps_class_archive(&first), "a built image has no archive");

    // The seeding finishes by itself; the next new instance starts from its database.
    // (Its name ends in the digest of the realm it imports.)
    let seeding = Command::new("docker")
        .args(["ps", "-a", "--format", "{{.Names}}", "--filter"])
        .arg(format!("name=kcdev-seed-{key}"))
        .output()
        .unwrap();
    let seeding = String::from_utf8_lossy(&seeding.stdout).trim().to_owned();
    assert!(!seeding.is_empty(), "no seeding container for {key}");
    wait_until_exited(&seeding, Duration::from_secs(240)).await;
    let second = Kcdev::new("bootsecond");
    let (report, stderr) = up(&second, &base.0, &[]);
    assert_eq!(report["boot"], "seeded", "{stderr}");
    assert!(!stderr.contains("Building"), "derived once: {stderr}");
    // The seeding trained a class archive; the seeded image's JVM boots from it.
    assert!(
        maps_class_archive(&second),
        "the JVM of a seeded boot did not map the class archive"
    );
    // Trained on a new instance's first requests, not only on a boot: the admin login (a
    // password grant, then the admin API's bearer check) and the login page.
    let seeded_image = report["run_image"].as_str().unwrap();
    let archived = archived_classes(seeded_image);
    for class in [
        "org.keycloak.protocol.oidc.grants.ResourceOwnerPasswordCredentialsGrantType",
        "org.keycloak.services.resources.admin.AdminAuth",
        "org.keycloak.forms.login.freemarker.FreeMarkerLoginFormsProvider",
    ] {
        assert!(
            archived.contains(&format!(" {class} ")),
            "{class} is not in {seeded_image}'s class archive"
        );
    }
    assert!(
        report["run_image"]
            .as_str()
            .unwrap()
            .starts_with(&built.replace("-built", "-seeded")),
        "{report}"
    );
    // The default realm came with the database: nothing to create, nothing left to plan.
    assert_eq!(report["provisioning"]["from_seed"], true, "{report}");
    assert_eq!(report["provisioning"]["changes"], serde_json::json!([]));
    let plan = second.run(&["plan", "--json"]).ok().json();
    assert_eq!(plan["changes"], serde_json::json!([]), "{plan}");
    let token = second.run(&["token", "--decode"]).ok().json();
    assert_eq!(token["preferred_username"], "testuser");
    // An admin of its own (kcdev's password), and master realm keys of its own. The admin the
    // seeding's training boot made went with the copy of the database it ran on.
    let master_users = second
        .admin()
        .await
        .api()
        .realm_users_get(
            "master", None, None, None, None, None, None, None, None, None, None, None, None, None,
            None, None, None,
        )
        .await
        .unwrap();
    let usernames: Vec<_> = master_users
        .iter()
        .map(|user| user.username.clone())
        .collect();
    assert_eq!(
        usernames,
        [second.state()["admin"]["username"]
            .as_str()
            .map(str::to_owned)],
        "the master realm's users"
    );
    let third = Kcdev::new("bootthird");
    let (report, _) = up(&third, &base.0, &[]);
    assert_eq!(report["boot"], "seeded");
    // The seeding left no keys: the master realm's were made at the admin login, the default
    // realm's signing key came with `up`. Each instance's are its own.
    third.run(&["token", "-q"]).ok();
    for realm in ["master", "fastmcp"] {
        let (second_keys, third_keys) = (
            realm_key_ids(&second, realm).await,
            realm_key_ids(&third, realm).await,
        );
        assert!(!second_keys.is_empty(), "{realm}");
        assert!(
            second_keys.iter().all(|kid| !third_keys.contains(kid)),
            "two instances share {realm} keys: {second_keys:?} {third_keys:?}"
        );
    }
    let (second_public, third_public) = (
        realm_public_keys(&second).await,
        realm_public_keys(&third).await,
    );
    assert!(
        second_public.iter().all(|key| !third_public.contains(key)),
        "{second_public:?} {third_public:?}"
    );
    let admin = third.admin().await;
    let providers = admin
        .api()
        .realm_components_get(
            "master",
            None,
            None,
            None,
            Some("org.keycloak.keys.KeyProvider".to_owned()),
        )
        .await
        .unwrap();
    let made_here = |p: &keycloak::types::ComponentRepresentation| {
        p.name
            .as_deref()
            .unwrap_or_default()
            .starts_with("fallback-")
    };
    assert!(
        !providers.is_empty() && providers.iter().all(made_here),
        "only the keys Keycloak made for this instance: {providers:?}"
    );
    // A second up changes nothing. (That the seeded image carries no admin is what the admin
    // creation above proves: Keycloak's welcome page creates one only while there is none, and
    // `up` fails otherwise.)
    let (again, _) = up(&third, &base.0, &[]);
    assert_eq!(again["provisioning"]["changes"], serde_json::json!([]));

    // Another server URL: the seeded realm, with the plan's changes on top, ends as a created
    // one would (no resource client for the default URL).
    let other_url = Kcdev::new("boototherurl");
    let (report, _) = up(
        &other_url,
        &base.0,
        &["--server-url", "http://localhost:9100"],
    );
    assert_eq!(report["provisioning"]["from_seed"], true, "{report}");
    let plan = other_url.run(&["plan", "--json"]).ok().json();
    assert_eq!(plan["changes"], serde_json::json!([]), "{plan}");
    let admin = other_url.admin().await;
    let clients = admin
        .api()
        .realm_clients_get("fastmcp", None, None, None, None, None, None)
        .await
        .unwrap();
    let client_ids: Vec<&str> = clients
        .iter()
        .filter_map(|client| client.client_id.as_deref())
        .collect();
    assert!(
        client_ids.contains(&"http://localhost:9100/mcp"),
        "{client_ids:?}"
    );
    assert!(
        !client_ids.contains(&"http://localhost:8000/mcp"),
        "{client_ids:?}"
    );
    other_url.run(&["token", "-q"]).ok();
    // Another realm name: the seeded realm, renamed, with the plan's changes on top.
    let other_realm = Kcdev::new("boototherrealm");
    let (report, _) = up(&other_realm, &base.0, &["--realm", "elsewhere"]);
    assert_eq!(report["boot"], "seeded");
    assert_eq!(report["provisioning"]["from_seed"], true, "{report}");
    let plan = other_realm.run(&["plan", "--json"]).ok().json();
    assert_eq!(plan["changes"], serde_json::json!([]), "{plan}");
    let realms = other_realm
        .admin()
        .await
        .api()
        .get(Some(true))
        .await
        .unwrap();
    let names: Vec<&str> = realms.iter().filter_map(|r| r.realm.as_deref()).collect();
    assert_eq!(names.len(), 2, "master and elsewhere only: {names:?}");
    assert!(names.contains(&"elsewhere"), "{names:?}");
    other_realm.run(&["token", "-q"]).ok();

    // Prune keeps what containers use, then removes the rest.
    let prune = first
        .run(&["prune", "--image", &base.0, "--json"])
        .ok()
        .json();
    assert!(
        !prune["removed"].to_string().contains(&key),
        "removed images in use: {prune}"
    );
    for kcdev in [&first, &second, &third, &other_url, &other_realm] {
        kcdev.run(&["down", "--volumes", "-q"]).ok();
    }
    let prune = first
        .run(&["prune", "--image", &base.0, "--json"])
        .ok()
        .json();
    let removed = prune["removed"].to_string();
    assert!(removed.contains(&format!("{key}-built")), "{prune}");
    assert!(removed.contains(&format!("{key}-seeded")), "{prune}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_boot_runs_start_dev_and_switching_keeps_the_data() {
    let kcdev = Kcdev::new("devboot");
    let image = common::test_image();
    let (report, _) = up(&kcdev, &image, &["--boot", "dev"]);
    assert_eq!(report["boot"], "dev");
    assert_eq!(report["run_image"], image.as_str());
    let container = docker()
        .inspect_container(&format!("kcdev-{}-keycloak", kcdev.instance), None)
        .await
        .unwrap();
    assert_eq!(container.config.unwrap().cmd.unwrap()[0], "start-dev");
    kcdev.run(&["token", "-q"]).ok();

    // The boot is a container setting: a change asks for --recreate, which keeps the data.
    let mut args = Kcdev::auto_port_up_args(&image);
    args.extend(["--boot".to_owned(), "optimized".to_owned()]);
    let refused: Vec<&str> = args.iter().map(String::as_str).collect();
    let error = kcdev.run(&refused).failed_with(1).json()["error"].clone();
    assert!(
        error.to_string().contains("boot is dev, wanted optimized")
            && error["hints"].to_string().contains("--recreate"),
        "{error}"
    );
    let (report, _) = up(&kcdev, &image, &["--boot", "optimized", "--recreate"]);
    assert_eq!(report["container_action"], "recreated");
    assert_ne!(report["boot"], "dev");
    assert_eq!(
        report["provisioning"]["changes"],
        serde_json::json!([]),
        "data kept"
    );
    let status = kcdev.run(&["status", "--json"]).ok().json();
    assert_eq!(status["container"]["image"], image.as_str());
    assert_ne!(status["container"]["boot"], "dev");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_768m_limit_boots_and_serves_a_login() {
    let kcdev = Kcdev::new("smallmem");
    let (report, _) = up(&kcdev, &common::test_image(), &["--memory", "768m"]);
    let container = docker()
        .inspect_container(&format!("kcdev-{}-keycloak", kcdev.instance), None)
        .await
        .unwrap();
    assert_eq!(container.host_config.unwrap().memory, Some(768 << 20));
    let env = container.config.unwrap().env.unwrap();
    assert!(
        env.contains(&"JAVA_OPTS_KC_HEAP=-Xms256m -Xmx418m".to_owned()),
        "{env:?}"
    );
    assert_eq!(report["container_action"], "created");
    let claims = kcdev
        .run(&["token", "--user", "testadmin", "--decode"])
        .ok()
        .json();
    assert_eq!(claims["preferred_username"], "testadmin");
}
