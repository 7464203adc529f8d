//! The generated Rust server as it is deployed, against the real Keycloak: the realm's signing
//! key rotates under a running server, and two replicas serve one public name behind nginx.
//!
//! Both tests share one Keycloak whose realm is provisioned for the balancer's public URL. The
//! rotation test changes the realm's keys, so it runs alone (the lock).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::generated::{RunningServer, generate};
use common::mcp::stateless_request;
use common::{Kcdev, at_exit, free_port, run_interop_script, shared, wait_until_answers};
use keycloak::types::ComponentRepresentation;
use serde_json::json;
use tokio::sync::{OnceCell, RwLock};

const REALM: &str = "fastmcp";
/// The name clients use for the balanced server: not a loopback name, so the replicas' Host
/// allow-list has to come from `MCP_SERVER_URL`.
const PUBLIC_HOST: &str = "mcp.kcdev.test";

static KEYS_LOCK: RwLock<()> = RwLock::const_new(());

/// The balancer's port; the realm and both replicas know the server by `PUBLIC_HOST` on it.
fn public_port() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(free_port)
}

fn public_url() -> String {
    format!("http://{PUBLIC_HOST}:{}", public_port())
}

fn kcdev() -> &'static Kcdev {
    shared("deployment", &["--server-url", &public_url()])
}

/// One generated project for both tests (the build is shared with the other test binaries).
async fn project() -> &'static PathBuf {
    static DIR: OnceCell<PathBuf> = OnceCell::const_new();
    DIR.get_or_init(|| async {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("deployment-server-{}", std::process::id()));
        generate(kcdev(), &dir);
        let cleanup = dir.clone();
        at_exit(move || {
            let _ = std::fs::remove_dir_all(&cleanup);
        });
        dir
    })
    .await
}

/// A replica of the generated server on `port`, serving the public URL.
async fn replica(dir: &Path, port: u16, env: &[(&str, &str)]) -> RunningServer {
    let bind = format!("127.0.0.1:{port}");
    let mut env = env.to_vec();
    env.push(("MCP_BIND", &bind));
    RunningServer::start_with(
        kcdev(),
        dir,
        Some(&public_url()),
        &format!("http://127.0.0.1:{port}"),
        &env,
    )
    .await
}

async fn token(user: &str) -> String {
    kcdev()
        .run(&["token", "--user", user])
        .ok()
        .stdout
        .trim()
        .to_owned()
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .unwrap()
        .kid
        .expect("Keycloak names the key")
}

/// A self-contained 2026-07-28 `tools/call whoami` to `url` (no session): its HTTP status.
async fn whoami_status(url: &str, token: &str) -> u16 {
    stateless_request(
        url,
        Some(token),
        None,
        "tools/call",
        json!({"name": "whoami", "arguments": {}}),
    )
    .await
    .status()
    .as_u16()
}

/// The realm's active RS256 signing key: its key id and its provider component.
async fn active_signing_key(kcdev: &Kcdev) -> (String, String) {
    let admin = kcdev.admin().await;
    let keys = admin.api().realm_keys_get(REALM).await.unwrap();
    let active = keys
        .active
        .and_then(|active| active.get("RS256").cloned())
        .expect("an active RS256 key");
    let provider = keys
        .keys
        .unwrap()
        .into_iter()
        .find(|key| key.kid.as_deref() == Some(active.as_str()))
        .and_then(|key| key.provider_id)
        .unwrap();
    (active, provider)
}

/// The realm's signing key changes under a running server: a new key with a higher priority,
/// the old one made passive, then removed. The server accepts new-key tokens at once (an
/// unknown key id refetches the key set, rate-limited), old-key tokens while the old key is
/// published, and refuses them once it is gone and the key set is refreshed (its maximum age,
/// set to 3 s here with `MCP_JWKS_MAX_AGE_SECONDS`; 600 s by default).
#[tokio::test(flavor = "multi_thread")]
async fn the_server_follows_a_key_rotation() {
    let kcdev = kcdev();
    let _keys = KEYS_LOCK.write().await;
    let port = free_port();
    let _server = replica(
        project().await,
        port,
        &[
            ("MCP_JWKS_MAX_AGE_SECONDS", "3"),
            ("MCP_JWKS_MIN_REFRESH_SECONDS", "1"),
        ],
    )
    .await;
    let url = format!("http://127.0.0.1:{port}/mcp");
    let old_token = token("testuser").await;
    assert_eq!(whoami_status(&url, &old_token).await, 200);

    let (old_kid, old_provider) = active_signing_key(kcdev).await;
    assert_eq!(kid(&old_token), old_kid);
    let admin = kcdev.admin().await;
    let realm_id = admin.api().realm_get(REALM).await.unwrap().id;
    let config = [
        ("priority", "500"),
        ("enabled", "true"),
        ("active", "true"),
        ("algorithm", "RS256"),
        ("keySize", "2048"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), vec![v.to_owned()]))
    .collect();
    admin
        .api()
        .realm_components_post(
            REALM,
            ComponentRepresentation {
                name: Some("rotated-in".into()),
                provider_id: Some("rsa-generated".into()),
                provider_type: Some("org.keycloak.keys.KeyProvider".into()),
                parent_id: realm_id,
                config: Some(config),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let new_token = token("testuser").await;
    assert_ne!(kid(&new_token), old_kid, "the new key signs");
    assert_eq!(
        whoami_status(&url, &new_token).await,
        200,
        "unknown kid refetched"
    );

    // Passive: no longer signing, still published, still verifying.
    let mut old = admin
        .api()
        .realm_components_with_id_get(REALM, &old_provider)
        .await
        .unwrap();
    old.config
        .get_or_insert_with(Default::default)
        .insert("active".to_owned(), vec!["false".to_owned()]);
    admin
        .api()
        .realm_components_with_id_put(REALM, &old_provider, old)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        whoami_status(&url, &old_token).await,
        200,
        "a passive key is published and verifies"
    );

    admin
        .api()
        .realm_components_with_id_delete(REALM, &old_provider)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let refused = stateless_request(&url, Some(&old_token), None, "tools/list", json!({})).await;
    assert_eq!(refused.status(), 401, "the removed key no longer verifies");
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("invalid_token") && challenge.contains("unknown signing key"),
        "{challenge}"
    );
    assert_eq!(whoami_status(&url, &new_token).await, 200);
}

/// nginx from Debian in front of replicas, round-robin, as the test's child process: one
/// process (`master_process off`), so killing it leaves no worker behind.
struct Balancer(Option<Child>, PathBuf);

impl Balancer {
    async fn start(port: u16, replicas: &[u16]) -> Self {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("nginx-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        let upstreams: String = replicas
            .iter()
            .map(|replica| format!("    server 127.0.0.1:{replica};\n"))
            .collect();
        let temp = dir.display();
        let config = format!(
            "daemon off;\nmaster_process off;\npid {temp}/nginx.pid;\nerror_log {temp}/logs/error.log;\n\
             events {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {temp}/body;\n  \
             proxy_temp_path {temp}/proxy;\n  fastcgi_temp_path {temp}/fastcgi;\n  \
             uwsgi_temp_path {temp}/uwsgi;\n  scgi_temp_path {temp}/scgi;\n  \
             upstream replicas {{\n{upstreams}  }}\n  server {{\n    listen 127.0.0.1:{port};\n    \
             location / {{\n      proxy_pass http://replicas;\n      proxy_http_version 1.1;\n      \
             proxy_set_header Host $http_host;\n      proxy_buffering off;\n      \
             add_header X-Replica $upstream_addr always;\n    }}\n  }}\n}}\n"
        );
        let config_path = dir.join("nginx.conf");
        std::fs::write(&config_path, config).unwrap();
        let nginx = ["nginx", "/usr/sbin/nginx"]
            .into_iter()
            .find(|candidate| {
                Command::new(candidate)
                    .arg("-v")
                    .stderr(Stdio::null())
                    .status()
                    .is_ok()
            })
            .expect("nginx is installed by scripts/prepare-test-env.sh");
        let child = Command::new(nginx)
            .args(["-p", &dir.display().to_string(), "-c"])
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nginx");
        let mut balancer = Self(Some(child), dir);
        wait_until_answers(
            &format!("http://127.0.0.1:{port}/healthz"),
            Duration::from_secs(30),
            || {
                balancer
                    .0
                    .as_mut()
                    .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
            },
        )
        .await;
        balancer
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

/// Two replicas behind nginx, round-robin, one public name: a 2026-07-28 client (the Python
/// SDK's default) needs no session, so every request may land on either replica; its calls land
/// on both and all succeed. The replicas answer to the public name because `MCP_SERVER_URL`
/// names it, and to no other name.
#[tokio::test(flavor = "multi_thread")]
async fn replicas_behind_a_round_robin_balancer_serve_one_client() {
    let _keys = KEYS_LOCK.read().await;
    let dir = project().await;
    let ports = [free_port(), free_port()];
    let _first = replica(dir, ports[0], &[]).await;
    let _second = replica(dir, ports[1], &[]).await;
    let _balancer = Balancer::start(public_port(), &ports).await;
    let resource = format!("{}/mcp", public_url());
    let mut args = vec![
        resource.as_str(),
        "testadmin",
        "password123",
        "--mode",
        "auto",
        "--client-id",
        "kcdev-claude-code",
        "--redirect-uri",
        "http://localhost:33420/callback",
    ];
    let resolve = format!("{PUBLIC_HOST}=127.0.0.1");
    args.extend(["--resolve", &resolve, "--record-header", "x-replica"]);
    for _ in 0..3 {
        args.extend(["--call", "whoami"]);
    }
    args.extend(["--call", "admin_only"]);
    let result = run_interop_script("mcp_sdk_client.py", &args);
    assert_eq!(result["protocol_version"], "2026-07-28", "{result}");
    assert_eq!(result["session_ids"], json!([]), "{result}");
    let mut replicas: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    replicas.sort();
    assert_eq!(
        result["header_values"],
        json!(replicas),
        "both replicas answered: {result}"
    );
    assert_eq!(
        result["calls"]["whoami"]["structured"]["username"], "testadmin",
        "{result}"
    );
    assert_eq!(result["calls"]["admin_only"]["is_error"], false, "{result}");

    // The DNS-rebinding protection still holds behind the balancer: another name is refused.
    let token = token("testuser").await;
    let balancer = format!("http://127.0.0.1:{}/mcp", public_port());
    let status = |host: &'static str| {
        let (balancer, token) = (balancer.clone(), token.clone());
        async move {
            stateless_request(&balancer, Some(&token), Some(host), "tools/list", json!({}))
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(PUBLIC_HOST).await, 200);
    assert_eq!(
        status("evil.example").await,
        403,
        "rmcp's DNS-rebinding refusal"
    );
}
