//! Deriving the optimized images (see [`super::boot`]) through the engine API: a container runs
//! `kc.sh build` (with kcdev's Keycloak provider copied in first) and is committed as the built
//! image; later a container started from that one
//! initializes the database in the background, and the next `up` that finds it finished commits
//! it as the seeded image. The container names are fixed per base image and options, so two
//! kcdev processes never derive the same image twice: the second waits for the first.

use std::time::{Duration, Instant};

use bollard::models::{ContainerConfig, ContainerCreateBody, ExecConfig, HostConfig};
use bollard::query_parameters::{
    CommitContainerOptionsBuilder, CreateContainerOptionsBuilder, ListImagesOptionsBuilder,
    RemoveImageOptionsBuilder, UploadToContainerOptionsBuilder,
};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::boot::{Boot, BuildOptions, DERIVED_REPOSITORY, DerivedNames, runtime_args};
use super::error::{is_conflict, is_not_found};
use super::jvm;
use super::provider::KEYCLOAK_UID;
use super::{ContainerStatus, DockerError, Engine, ImageSummary};
use crate::instance::{LABEL_BASE_IMAGE, LABEL_MANAGED_BY};
use crate::progress::Reporter;

/// Label on derived images and the containers that derive them, naming the derivation.
pub const LABEL_DERIVED_KEY: &str = "dev.kcdev.derived-key";
const POLL: Duration = Duration::from_millis(500);
const LOG_TAIL_LINES: usize = 30;
const KEYCLOAK_HOME: &str = "/opt/keycloak";

/// Initializes the database and stops: Keycloak starts without an admin user (none is created
/// on an existing master realm later either; kcdev creates one per instance), and is stopped
/// cleanly once ready, so H2 closes its file. A second boot on a copy of it trains the class
/// archive with an instance's first requests.
const SEED_SCRIPT: &str = include_str!("seed-database.sh");
/// Creates a master-realm admin through Keycloak's welcome page, which allows that only from
/// inside the container and only while the master realm has no user.
const INITIAL_ADMIN_SCRIPT: &str = include_str!("initial-admin.sh");

/// The realm the seeded database carries: a realm representation, which the seeding imports
/// (`kc.sh start --import-realm`). Its digest, with the seeding scripts', is in the seeded image's
/// name, so another realm or another way of seeding (a kcdev with another default realm, or one
/// that leaves other things in the database) seeds another image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedRealm {
    pub name: String,
    document: Vec<u8>,
    digest: String,
}

impl SeedRealm {
    pub fn new(name: String, document: Vec<u8>) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(&document);
        hasher.update([0]);
        hasher.update(SEED_SCRIPT.as_bytes());
        hasher.update(INITIAL_ADMIN_SCRIPT.as_bytes());
        let digest = hasher
            .finalize()
            .iter()
            .take(4)
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Self {
            name,
            document,
            digest,
        }
    }

    /// The seeded image and its seeding container for this realm.
    fn names(&self, names: DerivedNames) -> DerivedNames {
        DerivedNames {
            seeded: format!("{}-{}", names.seeded, self.digest),
            seed_container: format!("{}-{}", names.seed_container, self.digest),
            ..names
        }
    }

    /// A tar archive of `data/import/<realm>-realm.json`, owned by Keycloak's user, to extract in
    /// Keycloak's home (the directories as the images have them: group-writable, group root).
    fn archive(&self) -> std::io::Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        for directory in ["data/", "data/import/"] {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o775);
            header.set_uid(KEYCLOAK_UID);
            header.set_gid(0);
            header.set_size(0);
            builder.append_data(&mut header, directory, std::io::empty())?;
        }
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_uid(KEYCLOAK_UID);
        header.set_gid(0);
        header.set_size(self.document.len() as u64);
        builder.append_data(
            &mut header,
            // Keycloak imports `<realm>-realm.json` only, and refuses another name.
            format!("data/import/{}-realm.json", self.name),
            self.document.as_slice(),
        )?;
        builder.into_inner()
    }
}

/// What the optimized boot of an image can use right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptimizedImages {
    pub names: DerivedNames,
    pub boot: Boot,
}

impl Engine {
    /// The optimized boot for `base`: its seeded image when there is one (committing a finished
    /// background seeding first), else its built image, derived now when missing.
    pub async fn optimized_images(
        &self,
        base: &ImageSummary,
        options: &BuildOptions,
        seed: &SeedRealm,
        timeout: Duration,
        reporter: &dyn Reporter,
    ) -> Result<OptimizedImages, DockerError> {
        let version = base.keycloak_version.as_ref().map(ToString::to_string);
        let names = seed.names(DerivedNames::new(&base.id, version.as_deref(), options));
        if let Some(seeded) = self.seeded_image(&names).await? {
            return Ok(OptimizedImages {
                boot: Boot::Optimized {
                    image: seeded,
                    seeded: true,
                },
                names,
            });
        }
        if !self.image_exists(&names.built).await? {
            reporter.derive_started(&base.reference, &names.built);
            let derived = self
                .run_build(base, options, &names, timeout, reporter)
                .await;
            reporter.derive_finished(&names.built);
            derived?;
        }
        Ok(OptimizedImages {
            boot: Boot::Optimized {
                image: names.built.clone(),
                seeded: false,
            },
            names,
        })
    }

    async fn image_exists(&self, reference: &str) -> Result<bool, DockerError> {
        Ok(self.inspect_image(reference).await?.is_some())
    }

    /// The seeded image, once seeding finished: committed from the stopped seed container,
    /// which is then removed. A seeding that failed is removed, to be tried again.
    async fn seeded_image(&self, names: &DerivedNames) -> Result<Option<String>, DockerError> {
        if self.image_exists(&names.seeded).await? {
            return Ok(Some(names.seeded.clone()));
        }
        let Some(seed) = self.inspect_container(&names.seed_container).await? else {
            return Ok(None);
        };
        match seed.status {
            ContainerStatus::Exited if seed.exit_code == 0 => {
                let entrypoint = self.entrypoint(&names.built).await?;
                self.commit(&names.seed_container, &names.seeded, entrypoint)
                    .await?;
                self.remove_container(&names.seed_container).await?;
                Ok(Some(names.seeded.clone()))
            }
            ContainerStatus::Exited | ContainerStatus::Created | ContainerStatus::Other => {
                self.remove_container(&names.seed_container).await?;
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// Starts initializing a database for `names.seeded`, with `seed` imported, in the
    /// background, unless that image or its seeding exists. Returns whether it started one.
    pub async fn start_seeding(
        &self,
        names: &DerivedNames,
        seed: &SeedRealm,
        base_image: &str,
        heap_options: &str,
    ) -> Result<bool, DockerError> {
        if self.image_exists(&names.seeded).await?
            || self
                .inspect_container(&names.seed_container)
                .await?
                .is_some()
        {
            return Ok(false);
        }
        let body = ContainerCreateBody {
            image: Some(names.built.clone()),
            entrypoint: Some(vec!["bash".to_owned()]),
            cmd: Some(
                vec![
                    "-c".to_owned(),
                    SEED_SCRIPT.to_owned(),
                    "seed-database".to_owned(),
                ]
                .into_iter()
                .chain(runtime_args())
                .collect(),
            ),
            env: Some(vec![
                format!("KCDEV_SEED_REALM={}", seed.name),
                format!("JAVA_OPTS_KC_HEAP={heap_options}"),
                format!("KCDEV_SEEDING_JAVA_OPTS={}", jvm::runtime_options(false)),
                format!("KCDEV_TRAINING_JAVA_OPTS={}", jvm::training_options()),
                format!("KCDEV_CREATE_ADMIN={INITIAL_ADMIN_SCRIPT}"),
            ]),
            labels: Some(derivation_labels(names, base_image)),
            host_config: Some(HostConfig {
                // It needs no network, and nothing should reach a Keycloak without an admin.
                network_mode: Some("none".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default()
            .name(&names.seed_container)
            .build();
        match self.docker.create_container(Some(options), body).await {
            Ok(_) => {}
            // Another kcdev started it a moment ago.
            Err(err) if is_conflict(&err) => return Ok(false),
            Err(err) => {
                return Err(DockerError::operation(
                    "create container",
                    &names.seed_container,
                )(err));
            }
        }
        let copied = match seed.archive() {
            Ok(archive) => {
                let options = UploadToContainerOptionsBuilder::default()
                    .path(KEYCLOAK_HOME)
                    .build();
                self.docker
                    .upload_to_container(
                        &names.seed_container,
                        Some(options),
                        bollard::body_full(archive.into()),
                    )
                    .await
                    .map_err(DockerError::operation(
                        "copy the default realm into",
                        &names.seed_container,
                    ))
            }
            Err(source) => Err(DockerError::ProviderArchive {
                what: "the default realm",
                source,
            }),
        };
        if let Err(err) = copied {
            self.remove_container(&names.seed_container).await?;
            return Err(err);
        }
        self.start(&names.seed_container).await?;
        Ok(true)
    }

    async fn run_build(
        &self,
        base: &ImageSummary,
        options: &BuildOptions,
        names: &DerivedNames,
        timeout: Duration,
        reporter: &dyn Reporter,
    ) -> Result<(), DockerError> {
        let container = &names.build_container;
        let body = ContainerCreateBody {
            image: Some(base.id.clone()),
            cmd: Some(options.build_args()),
            labels: Some(derivation_labels(names, &base.reference)),
            host_config: Some(HostConfig {
                network_mode: Some("none".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let create = CreateContainerOptionsBuilder::default()
            .name(container)
            .build();
        let ours = match self.docker.create_container(Some(create), body).await {
            Ok(_) => true,
            Err(err) if is_conflict(&err) => false,
            Err(err) => return Err(DockerError::operation("create container", container)(err)),
        };
        if ours {
            // `kc.sh build` registers the providers it finds; the built image then has it.
            if let Err(err) = self.install_provider(container).await {
                self.remove_container(container).await?;
                return Err(err);
            }
            self.start(container).await?;
        }
        let started = Instant::now();
        loop {
            if !ours && self.image_exists(&names.built).await? {
                return Ok(());
            }
            let state = self.inspect_container(container).await?;
            match state {
                None if !ours => {
                    // The other kcdev finished or gave up: its image is there, or we derive.
                    return if self.image_exists(&names.built).await? {
                        Ok(())
                    } else {
                        Box::pin(self.run_build(base, options, names, timeout, reporter)).await
                    };
                }
                None => {
                    return Err(DockerError::DeriveFailed {
                        image: names.built.clone(),
                        exit_code: -1,
                        log_tail: Vec::new(),
                    });
                }
                Some(state) if ours && state.status == ContainerStatus::Exited => {
                    if state.exit_code != 0 {
                        let log_tail = self.log_tail(container, LOG_TAIL_LINES).await;
                        self.remove_container(container).await?;
                        return Err(DockerError::DeriveFailed {
                            image: names.built.clone(),
                            exit_code: state.exit_code,
                            log_tail,
                        });
                    }
                    let entrypoint = self.entrypoint(&base.id).await?;
                    self.commit(container, &names.built, entrypoint).await?;
                    self.remove_container(container).await?;
                    return Ok(());
                }
                Some(_) => {}
            }
            if started.elapsed() >= timeout {
                let log_tail = self.log_tail(container, LOG_TAIL_LINES).await;
                if ours {
                    self.remove_container(container).await?;
                }
                return Err(DockerError::NotReady {
                    waited: started.elapsed(),
                    last_status: format!("`kc.sh build` for {} still running", names.built),
                    log_tail,
                });
            }
            let last_line = self.log_tail(container, 1).await.pop().unwrap_or_default();
            reporter.deriving(started.elapsed(), &last_line);
            tokio::time::sleep(POLL).await;
        }
    }

    async fn entrypoint(&self, image: &str) -> Result<Vec<String>, DockerError> {
        Ok(self
            .inspect_image(image)
            .await?
            .and_then(|inspect| inspect.config)
            .and_then(|config| config.entrypoint)
            .filter(|entrypoint| !entrypoint.is_empty())
            .unwrap_or_else(|| vec![format!("{KEYCLOAK_HOME}/bin/kc.sh")]))
    }

    /// Commits `container` as `reference`, as an image that runs Keycloak: its entrypoint, and
    /// `start --optimized` when run without arguments.
    async fn commit(
        &self,
        container: &str,
        reference: &str,
        entrypoint: Vec<String>,
    ) -> Result<(), DockerError> {
        let (repository, tag) = reference.rsplit_once(':').unwrap_or((reference, "latest"));
        let changes = format!(
            "ENTRYPOINT {}\nCMD [\"start\", \"--optimized\"]",
            serde_json::to_string(&entrypoint).unwrap_or_default()
        );
        let options = CommitContainerOptionsBuilder::default()
            .container(container)
            .repo(repository)
            .tag(tag)
            .changes(&changes)
            .build();
        self.docker
            .commit_container(options, ContainerConfig::default())
            .await
            .map_err(DockerError::operation(
                "commit the derived image",
                reference,
            ))?;
        Ok(())
    }

    /// Creates the master realm's first admin in a container booted from a seeded image, whose
    /// master realm exists already (so Keycloak's bootstrap admin variables do nothing).
    /// Returns false when the realm has a user already (the page refuses then).
    pub async fn create_initial_admin(
        &self,
        container: &str,
        username: &str,
        password: &str,
    ) -> Result<bool, DockerError> {
        let config = ExecConfig {
            cmd: Some(vec![
                "bash".to_owned(),
                "-c".to_owned(),
                INITIAL_ADMIN_SCRIPT.to_owned(),
            ]),
            env: Some(vec![
                format!("KCDEV_ADMIN_USERNAME={username}"),
                format!("KCDEV_ADMIN_PASSWORD={password}"),
            ]),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let failed = DockerError::operation("create the admin user in", container);
        let exec = self
            .docker
            .create_exec(container, config)
            .await
            .map_err(failed)?;
        let mut output = String::new();
        if let bollard::exec::StartExecResults::Attached {
            output: mut stream, ..
        } = self
            .docker
            .start_exec(&exec.id, None)
            .await
            .map_err(DockerError::operation(
                "create the admin user in",
                container,
            ))?
        {
            while let Some(Ok(chunk)) = stream.next().await {
                output.push_str(&chunk.to_string());
            }
        }
        Ok(output.contains("User created"))
    }

    /// Removes derived images no container uses, and finished or failed derivations, of `base`
    /// or of every image. Returns what it removed.
    pub async fn prune_derived(&self, base: Option<&str>) -> Result<Vec<String>, DockerError> {
        let mut removed = Vec::new();
        let mut labels = vec![
            format!("{LABEL_MANAGED_BY}=kcdev"),
            LABEL_DERIVED_KEY.to_owned(),
        ];
        if let Some(base) = base {
            labels.push(format!("{LABEL_BASE_IMAGE}={base}"));
        }
        let filter = std::collections::HashMap::from([("label".to_owned(), labels)]);
        let containers = self
            .list_all_containers(&std::collections::HashMap::new())
            .await
            .map_err(DockerError::operation("list containers", "all"))?;
        // The derivations (kcdev-derive-*, kcdev-seed-*) of the images being pruned go, a seeding
        // still under way too (the next `up` starts it again); every other container keeps the
        // image it runs.
        let mut in_use = std::collections::HashSet::new();
        for container in containers {
            let name = container
                .names
                .as_ref()
                .and_then(|names| names.first())
                .map(|name| name.trim_start_matches('/').to_owned())
                .unwrap_or_default();
            let derivation = name.starts_with("kcdev-derive-") || name.starts_with("kcdev-seed-");
            let of_base = base.is_none_or(|base| {
                container
                    .labels
                    .as_ref()
                    .and_then(|labels| labels.get(LABEL_BASE_IMAGE))
                    .is_some_and(|label| label == base)
            });
            match container.id {
                Some(id) if derivation && of_base => {
                    self.remove_container(&id).await?;
                    removed.push(name);
                }
                _ => in_use.extend(container.image_id),
            }
        }
        let images = self
            .docker
            .list_images(Some(
                ListImagesOptionsBuilder::default().filters(&filter).build(),
            ))
            .await
            .map_err(DockerError::operation("list images", DERIVED_REPOSITORY))?;
        // Podman's compatible API matches several label filters by any one of them.
        let derived_of_base = |labels: &std::collections::HashMap<String, String>| {
            labels.get(LABEL_MANAGED_BY).is_some_and(|by| by == "kcdev")
                && labels.contains_key(LABEL_DERIVED_KEY)
                && base.is_none_or(|base| labels.get(LABEL_BASE_IMAGE).is_some_and(|b| b == base))
        };
        for image in images {
            if in_use.contains(&image.id) || !derived_of_base(&image.labels) {
                continue;
            }
            let name = image
                .repo_tags
                .first()
                .cloned()
                .unwrap_or_else(|| image.id.clone());
            let options = RemoveImageOptionsBuilder::default().force(true).build();
            match self
                .docker
                .remove_image(&image.id, Some(options), None)
                .await
            {
                Ok(_) => removed.push(name),
                Err(err) if is_not_found(&err) => {}
                Err(err) => return Err(DockerError::operation("remove image", &name)(err)),
            }
        }
        Ok(removed)
    }
}

fn derivation_labels(
    names: &DerivedNames,
    base_image: &str,
) -> std::collections::HashMap<String, String> {
    std::collections::HashMap::from([
        (LABEL_MANAGED_BY.to_owned(), "kcdev".to_owned()),
        (LABEL_DERIVED_KEY.to_owned(), names.key.clone()),
        (LABEL_BASE_IMAGE.to_owned(), base_image.to_owned()),
    ])
}
