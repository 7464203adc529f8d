//! Beyond one laptop, against real servers: a Keycloak the test starts with plain Docker (its own
//! admin, other ports, HTTP and HTTPS with a CA the test makes) is provisioned with `up
//! --keycloak-url`, checked with `doctor` and `plan`, and used by a generated server; a
//! service-account client is the admin credential over HTTPS; the `keycloak` export imports into
//! a fresh Keycloak (`start-dev --import-realm`, what the Operator's import job does) and is the
//! same realm, and the `operator` export wraps the same document.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::generated::{RunningServer, generate};
use common::{Kcdev, free_port, oauth, test_image};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("ops", "ops-not-kcdevs-password");

/// A Keycloak started with `docker run`, as a team would run theirs; removed when dropped.
struct PlainKeycloak {
    name: String,
    http_port: u16,
    https_port: u16,
}

impl PlainKeycloak {
    /// Boots `start-dev` with its own admin, HTTPS from `certs` (tls.crt, tls.key) and, when
    /// given, realm files to import from `import`.
    async fn start(label: &str, certs: &Path, import: Option<&Path>) -> Self {
        let name = format!("kcdev-test-plain-{label}-{}", std::process::id());
        let _ = Command::new("docker").args(["rm", "-f", &name]).output();
        let (http_port, https_port) = (free_port(), free_port());
        let mut args: Vec<String> = [
            "run",
            "-d",
            "--name",
            &name,
            "-p",
            &format!("127.0.0.1:{http_port}:8080"),
            "-p",
            &format!("127.0.0.1:{https_port}:8443"),
            "-e",
            &format!("KC_BOOTSTRAP_ADMIN_USERNAME={}", ADMIN.0),
            "-e",
            &format!("KC_BOOTSTRAP_ADMIN_PASSWORD={}", ADMIN.1),
            "-v",
            &format!("{}:/certs:ro", certs.display()),
        ]
        .map(str::to_owned)
        .to_vec();
        if let Some(dir) = import {
            args.extend([
                "-v".to_owned(),
                format!("{}:/opt/keycloak/data/import:ro", dir.display()),
            ]);
        }
        args.extend(
            [
                &test_image(),
                "start-dev",
                "--https-certificate-file=/certs/tls.crt",
                "--https-certificate-key-file=/certs/tls.key",
            ]
            .map(str::to_owned),
        );
        if import.is_some() {
            args.push("--import-realm".to_owned());
        }
        let output = Command::new("docker").args(&args).output().unwrap();
        assert!(
            output.status.success(),
            "docker run: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let keycloak = Self {
            name,
            http_port,
            https_port,
        };
        keycloak.wait_ready().await;
        keycloak
    }

    fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    async fn wait_ready(&self) {
        let started = Instant::now();
        let url = format!("{}/realms/master", self.http_url());
        loop {
            if reqwest::get(&url)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(240),
                "Keycloak {} not ready",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// A master-realm admin token of the container's own admin.
    async fn admin_token(&self) -> String {
        let response: Value = reqwest::Client::new()
            .post(format!(
                "{}/realms/master/protocol/openid-connect/token",
                self.http_url()
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", ADMIN.0),
                ("password", ADMIN.1),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        response["access_token"].as_str().unwrap().to_owned()
    }

    /// An Admin API call as the container's admin; the answer's JSON (or null).
    async fn admin_call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}/admin/realms/{path}", self.http_url()))
            .bearer_auth(self.admin_token().await);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// A confidential master-realm client whose service account holds the admin role: what a
    /// team hands CI instead of a person's password.
    async fn create_service_account(&self, client_id: &str, secret: &str) {
        use reqwest::Method;
        self.admin_call(
            Method::POST,
            "master/clients",
            Some(json!({
                "clientId": client_id,
                "secret": secret,
                "publicClient": false,
                "serviceAccountsEnabled": true,
                "standardFlowEnabled": false,
                "directAccessGrantsEnabled": false,
            })),
        )
        .await;
        let clients = self
            .admin_call(
                Method::GET,
                &format!("master/clients?clientId={client_id}"),
                None,
            )
            .await;
        let id = clients[0]["id"].as_str().unwrap().to_owned();
        let user = self
            .admin_call(
                Method::GET,
                &format!("master/clients/{id}/service-account-user"),
                None,
            )
            .await;
        let admin_role = self
            .admin_call(Method::GET, "master/roles/admin", None)
            .await;
        self.admin_call(
            Method::POST,
            &format!(
                "master/users/{}/role-mappings/realm",
                user["id"].as_str().unwrap()
            ),
            Some(json!([admin_role])),
        )
        .await;
    }
}

impl Drop for PlainKeycloak {
    fn drop(&mut self) {
        if std::env::var_os("KCDEV_TEST_KEEP").is_none() {
            let _ = Command::new("docker")
                .args(["rm", "-f", &self.name])
                .output();
        }
    }
}

/// A CA and a certificate it signed for localhost and 127.0.0.1, in `dir` (ca.pem, tls.crt,
/// tls.key, readable by Keycloak's user in the container).
fn make_certificates(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=kcdev test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "tls.key",
        "-out",
        "tls.csr",
    ]);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "tls.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "tls.crt",
    ]);
    use std::os::unix::fs::PermissionsExt;
    for file in ["tls.crt", "tls.key", "ca.pem"] {
        std::fs::set_permissions(dir.join(file), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `up --keycloak-url` of realm `team` for `server_url`, test users and laptop registration on
/// (what doctor's login and DCR checks need); the JSON report.
fn up_with_dev_conveniences(kcdev: &Kcdev, keycloak_url: &str, server_url: &str) -> Value {
    kcdev
        .run_command(with_admin_user(
            kcdev,
            &[
                "--json",
                "up",
                "--keycloak-url",
                keycloak_url,
                "--realm",
                "team",
                "--server-url",
                server_url,
                "--test-users",
                "--anonymous-registration",
            ],
        ))
        .ok()
        .json()
}

fn with_admin_user(kcdev: &Kcdev, args: &[&str]) -> Command {
    let mut command = kcdev.command(args);
    command
        .env("KCDEV_ADMIN_USERNAME", ADMIN.0)
        .env("KCDEV_ADMIN_PASSWORD", ADMIN.1);
    command
}

/// A directory of the test's files (certificates, the generated server, the export), removed
/// when dropped.
struct TestDir(PathBuf);

impl TestDir {
    fn new(label: &str) -> Self {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("team-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::env::var_os("KCDEV_TEST_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The access token's claims in `kcdev --json token`'s answer.
fn claims_of(token: &Value) -> Value {
    kcdev::oauth::decode_claims(token["access_token"].as_str().unwrap()).unwrap()
}

/// The claims two realms must agree on for the same user and server.
fn comparable(claims: &Value) -> Value {
    let mut roles = oauth::realm_roles(claims);
    roles.retain(|role| !role.starts_with("default-roles-"));
    roles.sort();
    let mut audiences = oauth::audiences(claims);
    audiences.sort();
    let mut scopes: Vec<&str> = claims["scope"]
        .as_str()
        .unwrap_or_else(|| panic!("no scope in {claims}"))
        .split(' ')
        .collect();
    scopes.sort();
    json!({
        "aud": audiences,
        "roles": roles,
        "scope": scopes,
        "preferred_username": claims["preferred_username"],
        "email": claims["email"],
        "azp": claims["azp"],
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shared_keycloak_is_provisioned_planned_exported_and_imported() {
    let test_dir = TestDir::new("shared");
    let dir = &test_dir.0;
    let certs = dir.join("certs");
    make_certificates(&certs);
    let keycloak = PlainKeycloak::start("shared", &certs, None).await;
    let server_port = free_port();
    let server_url = format!("http://localhost:{server_port}");
    let kcdev = Kcdev::new("team-http");

    // Without an admin login in the environment: refused, nothing written.
    kcdev
        .run(&[
            "up",
            "--keycloak-url",
            &keycloak.http_url(),
            "--realm",
            "team",
        ])
        .failed_with(1)
        .stderr_has(&[
            "no admin login",
            "KCDEV_ADMIN_USERNAME",
            "KCDEV_ADMIN_CLIENT_ID",
        ]);
    assert!(!kcdev.state_path().exists());

    // Provisioned over HTTP with the container's own admin.
    let up = up_with_dev_conveniences(&kcdev, &keycloak.http_url(), &server_url);
    assert_eq!(up["server"]["url"], keycloak.http_url(), "{up}");
    assert_eq!(up["server"]["admin"], format!("user \"{}\"", ADMIN.0));
    assert!(up.get("container").is_none(), "{up}");
    assert_eq!(
        up["realm"]["issuer"],
        format!("{}/realms/team", keycloak.http_url())
    );
    let state = std::fs::read_to_string(kcdev.state_path()).unwrap();
    assert!(
        !state.contains(ADMIN.1),
        "the admin password is never written: {state}"
    );

    // A second up writes nothing; plan agrees.
    let again = kcdev
        .run_command(with_admin_user(&kcdev, &["--json", "up"]))
        .ok()
        .json();
    assert_eq!(again["provisioning"]["changes"], json!([]), "{again}");
    kcdev.run_command(with_admin_user(&kcdev, &["plan"])).ok();

    // status and down speak of the server, not of a container; down touches nothing.
    let status = kcdev
        .run_command(with_admin_user(&kcdev, &["--json", "status"]))
        .ok()
        .json();
    assert_eq!(status["managed"], false);
    assert_eq!(status["engine"], Value::Null);
    assert_eq!(status["realm"]["drift"], json!([]), "{status}");
    kcdev
        .run(&["logs"])
        .failed_with(1)
        .stderr_has(&["does not run the Keycloak at"]);
    let down = kcdev.run(&["down"]).ok();
    assert!(
        down.stdout.contains("no container to stop"),
        "{}",
        down.stdout
    );
    keycloak.wait_ready().await;
    kcdev
        .run_command(with_admin_user(&kcdev, &["up", "--reset-realm"]))
        .failed_with(1)
        .stderr_has(&["refusing to delete realm team", "--reset-realm team"]);
    // Spelled out, it is deleted and provisioned again.
    let reset = kcdev
        .run_command(with_admin_user(
            &kcdev,
            &["--json", "up", "--reset-realm", "team"],
        ))
        .ok()
        .json();
    assert_eq!(
        reset["provisioning"]["changes"][0]["object"], "realm team",
        "{reset}"
    );

    // A generated server, run by kcdev against that realm: doctor logs in through DCR and calls
    // it with the token.
    let project = dir.join("server");
    generate(&kcdev, &project);
    let server = RunningServer::start(&kcdev, &project, None, &server_url).await;
    let doctor = kcdev.run_command(with_admin_user(&kcdev, &["--json", "doctor"]));
    let checks = doctor.json();
    assert_eq!(doctor.code, 0, "{checks}");
    let statuses: Vec<(String, String)> = checks["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for name in ["keycloak", "realm", "registration", "login", "server"] {
        assert!(
            statuses.contains(&(name.to_owned(), "pass".to_owned())),
            "{name}: {checks}"
        );
    }
    assert!(
        !statuses.iter().any(|(name, _)| name == "docker"),
        "{checks}"
    );

    // Client configuration reads the same realm.
    let config = kcdev.run(&["client-config", "claude-code"]).ok().stdout;
    assert!(config.contains(&format!("{server_url}/mcp")), "{config}");
    assert!(config.contains("kcdev-claude-code"), "{config}");

    // Drift behind kcdev's back: plan names the field and exits 4.
    keycloak
        .admin_call(
            reqwest::Method::PUT,
            "team",
            Some(json!({"accessTokenLifespan": 120})),
        )
        .await;
    let drift = kcdev.run_command(with_admin_user(&kcdev, &["plan"]));
    assert_eq!(drift.code, 4, "{}\n{}", drift.stdout, drift.stderr);
    assert!(
        drift.stdout.contains("accessTokenLifespan"),
        "{}",
        drift.stdout
    );
    kcdev.run_command(with_admin_user(&kcdev, &["up"])).ok();

    // HTTPS with a private CA, a service account as the admin credential, and no dev
    // conveniences unless asked for.
    keycloak
        .create_service_account("kcdev-ci", "ci-secret")
        .await;
    let tls = Kcdev::new("team-tls");
    let https = format!("https://localhost:{}", keycloak.https_port);
    let service_account = |args: &[&str]| {
        let mut command = tls.command(args);
        command
            .env("KCDEV_ADMIN_CLIENT_ID", "kcdev-ci")
            .env("KCDEV_ADMIN_CLIENT_SECRET", "ci-secret");
        command
    };
    let untrusted = tls.run_command(service_account(&[
        "up",
        "--keycloak-url",
        &https,
        "--realm",
        "team-tls",
    ]));
    assert_eq!(untrusted.code, 1, "{}", untrusted.stderr);
    untrusted.stderr_has(&["cannot reach Keycloak", "--ca-cert"]);
    assert!(!tls.state_path().exists());
    let ca = certs.join("ca.pem");
    let secure = tls
        .run_command(service_account(&[
            "--json",
            "up",
            "--keycloak-url",
            &https,
            "--ca-cert",
            ca.to_str().unwrap(),
            "--realm",
            "team-tls",
        ]))
        .ok();
    let secure_report = secure.json();
    assert_eq!(secure_report["users"], json!([]), "{secure_report}");
    assert_eq!(secure_report["registration"]["dynamic"], false);
    assert_eq!(secure_report["server"]["admin"], "client \"kcdev-ci\"");
    let doctor = tls.run_command(service_account(&["--json", "doctor"]));
    assert_eq!(doctor.code, 0, "{}", doctor.stdout);
    // Asked for once, the test users stay: a token over HTTPS through kcdev's own client.
    tls.run_command(service_account(&["up", "--test-users"]))
        .ok();
    let token = tls.run(&["--json", "token"]).ok().json();
    assert_eq!(
        claims_of(&token)["iss"],
        format!("{https}/realms/team-tls"),
        "{token}"
    );
    let env = tls.run(&["env"]).ok().stdout;
    assert!(
        env.contains(&format!("SSL_CERT_FILE={}", ca.display())),
        "{env}"
    );
    assert!(env.contains("NODE_EXTRA_CA_CERTS="), "{env}");

    // Export: the keycloak file and the operator resource carry the same realm.
    let exported = dir.join("import");
    std::fs::create_dir_all(&exported).unwrap();
    let file = exported.join("team-realm.json");
    let export = kcdev.run(&[
        "export",
        "--include-test-users",
        "-o",
        file.to_str().unwrap(),
    ]);
    export.ok().stderr_has(&[
        "MCP_SERVER_URL",
        "MCP_RESOURCE_URL",
        "KCDEV_TEST_USER_PASSWORD",
    ]);
    let realm_file: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(
        realm_file
            .to_string()
            .contains(&format!("${{MCP_SERVER_URL:{server_url}}}")),
        "placeholders carry this instance's values"
    );
    let operator = kcdev
        .run(&["export", "--format", "operator", "--include-test-users"])
        .ok()
        .stdout;
    check_operator_resource(&operator, &realm_file);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();

    // Imported into a fresh Keycloak, as the Operator's import job does it.
    let fresh = PlainKeycloak::start("imported", &certs, Some(&exported)).await;
    let imported = Kcdev::new("team-imported");
    let provisioned = up_with_dev_conveniences(&imported, &fresh.http_url(), &server_url);
    assert_eq!(
        provisioned["provisioning"]["changes"],
        json!([]),
        "export and provisioning describe the same realm: {provisioned}"
    );
    imported
        .run_command(with_admin_user(&imported, &["plan"]))
        .ok();
    // The same generated server, now run against the imported realm.
    drop(server);
    let _server = RunningServer::start(&imported, &project, None, &server_url).await;
    let doctor = imported.run_command(with_admin_user(&imported, &["--json", "doctor"]));
    assert_eq!(doctor.code, 0, "{}", doctor.stdout);
    for user in ["testuser", "testadmin"] {
        let ours = kcdev.run(&["--json", "token", "--user", user]).ok().json();
        let theirs = imported
            .run(&["--json", "token", "--user", user])
            .ok()
            .json();
        assert_eq!(
            comparable(&claims_of(&ours)),
            comparable(&claims_of(&theirs)),
            "{user}: the imported realm issues the same claims"
        );
    }
    let dcr_claims = |base: String| async move {
        let urls = kcdev::keycloak::RealmUrls::new(&base, "team");
        let tokens = oauth::mcp_client_login_at(&urls, "testadmin").await;
        let mut claims = kcdev::oauth::decode_claims(&tokens.access_token).unwrap();
        // Each registration mints its own client id.
        claims["azp"] = Value::Null;
        comparable(&claims)
    };
    assert_eq!(
        dcr_claims(keycloak.http_url()).await,
        dcr_claims(fresh.http_url()).await,
        "a client registered through DCR gets the same claims from both realms"
    );

    // An unreachable server is a failure (1), not drift (4).
    drop(fresh);
    let gone = imported.run_command(with_admin_user(&imported, &["plan"]));
    assert_eq!(gone.code, 1, "{}", gone.stderr);
    gone.stderr_has(&["cannot reach Keycloak"]);
}

/// The operator export parses as a `KeycloakRealmImport` must (apiVersion, kind, a name,
/// `spec.keycloakCRName`, `spec.realm`, each placeholder a Secret key) and its `spec.realm` is
/// the keycloak export.
fn check_operator_resource(yaml: &str, realm_file: &Value) {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Resource {
        #[serde(rename = "apiVersion")]
        api_version: String,
        kind: String,
        metadata: Metadata,
        spec: Spec,
    }
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Metadata {
        name: String,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Spec {
        #[serde(rename = "keycloakCRName")]
        keycloak_cr_name: String,
        realm: Value,
        placeholders: std::collections::BTreeMap<String, Placeholder>,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Placeholder {
        secret: SecretKey,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct SecretKey {
        name: String,
        key: String,
    }
    let resource: Resource = serde_norway::from_str(yaml).expect("a KeycloakRealmImport");
    assert_eq!(resource.api_version, "k8s.keycloak.org/v2alpha1");
    assert_eq!(resource.kind, "KeycloakRealmImport");
    assert_eq!(resource.metadata.name, "team");
    assert_eq!(&resource.spec.realm, realm_file);
    assert!(resource.spec.placeholders.contains_key("MCP_SERVER_URL"));
}
