use std::fmt;
use std::str::FromStr;

use bollard::models::ImageInspect;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;
use semver::Version;

use super::error::is_not_found;
use super::{DockerError, Engine};
use crate::progress::{LayerProgress, Reporter};

/// OCI label the official Keycloak images carry with their version.
const VERSION_LABEL: &str = "org.opencontainers.image.version";

/// When to pull the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullPolicy {
    /// Pull only if the image is not present locally.
    #[default]
    Missing,
    /// Always pull, to pick up a moved tag.
    Always,
    /// Never pull; fail if the image is not present.
    Never,
}

/// An image reference split the way the pull API wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    full: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

/// Why a string is not an image reference.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid image reference {0:?}")]
pub struct InvalidImageRef(String);

impl FromStr for ImageRef {
    type Err = InvalidImageRef;

    fn from_str(full: &str) -> Result<Self, Self::Err> {
        if full.is_empty() || full.chars().any(char::is_whitespace) {
            return Err(InvalidImageRef(full.to_owned()));
        }
        let (name, digest) = match full.split_once('@') {
            Some((name, digest)) => (name, Some(digest.to_owned())),
            None => (full, None),
        };
        // A colon after the last slash separates the tag; one before it belongs to a registry port.
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (
                &name[..last_slash + i],
                Some(name[last_slash + i + 1..].to_owned()),
            ),
            None => (name, None),
        };
        let valid = valid_repository(repository)
            && tag.as_deref().is_none_or(valid_tag)
            && digest.as_deref().is_none_or(valid_digest);
        if !valid {
            return Err(InvalidImageRef(full.to_owned()));
        }
        Ok(Self {
            full: full.to_owned(),
            repository: repository.to_owned(),
            tag,
            digest,
        })
    }
}

/// The reference grammar of the distribution spec, as the engine applies it: an optional registry
/// host (with port), then lowercase path components. Checked here so that a typo is named by kcdev,
/// not by a pull that fails later.
fn valid_repository(repository: &str) -> bool {
    let mut components: Vec<&str> = repository.split('/').collect();
    let first = components[0];
    let is_registry = components.len() > 1
        && (first.contains(['.', ':'])
            || first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase()));
    if is_registry {
        let (host, port) = first.split_once(':').unwrap_or((first, ""));
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
        if !host_ok || !port.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
        components.remove(0);
    }
    !components.is_empty()
        && components.iter().all(|component| {
            let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
            component.starts_with(alnum)
                && component.ends_with(alnum)
                && component
                    .chars()
                    .all(|c| alnum(c) || matches!(c, '.' | '_' | '-'))
        })
}

fn valid_tag(tag: &str) -> bool {
    tag.len() <= 128
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn valid_digest(digest: &str) -> bool {
    digest.split_once(':').is_some_and(|(algorithm, hex)| {
        !algorithm.is_empty()
            && algorithm.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '.' | '_' | '-')
            })
            && hex.len() >= 32
            && hex.chars().all(|c| c.is_ascii_hexdigit())
    })
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl ImageRef {
    /// The reference as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The tag, if the reference has one.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// What the pull API needs: image name (with digest, if any) and tag. A missing tag means
    /// `latest`, as in `docker pull`; sending no tag at all would pull every tag.
    fn pull_parameters(&self) -> (String, String) {
        match &self.digest {
            Some(digest) => (format!("{}@{digest}", self.repository), String::new()),
            None => (
                self.repository.clone(),
                self.tag.clone().unwrap_or_else(|| "latest".to_owned()),
            ),
        }
    }
}

/// What kcdev knows about the image it is about to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSummary {
    /// The reference.
    pub reference: String,
    /// The engine's image id.
    pub id: String,
    /// The Keycloak version the image declares (label, else tag), if any.
    pub keycloak_version: Option<Version>,
    /// Whether this call pulled it.
    pub pulled: bool,
}

/// Parses a Keycloak version as tags and labels spell it: `26.7.5`, `26.7.5-1`, `26.7`, `v26`.
pub fn parse_keycloak_version(text: &str) -> Option<Version> {
    let core = text.trim().trim_start_matches('v');
    let core = core.split(['-', '+']).next()?;
    let mut numbers = core.split('.').map(|part| part.parse::<u64>().ok());
    let major = numbers.next()??;
    let minor = numbers.next().unwrap_or(Some(0))?;
    let patch = numbers.next().unwrap_or(Some(0))?;
    if numbers.next().is_some() {
        return None;
    }
    Some(Version::new(major, minor, patch))
}

fn declared_version(inspect: &ImageInspect, image: &ImageRef) -> Option<Version> {
    let label = inspect
        .config
        .as_ref()
        .and_then(|config| config.labels.as_ref())
        .and_then(|labels| labels.get(VERSION_LABEL));
    label
        .and_then(|label| parse_keycloak_version(label))
        .or_else(|| image.tag().and_then(parse_keycloak_version))
}

impl Engine {
    /// Makes sure the image is present according to `policy`, pulling it with per-layer progress
    /// when needed, and reads the Keycloak version it declares.
    pub async fn ensure_image(
        &self,
        image: &ImageRef,
        policy: PullPolicy,
        reporter: &dyn Reporter,
    ) -> Result<ImageSummary, DockerError> {
        let present = self.inspect_image(image.as_str()).await?;
        let pulled = match (present.is_some(), policy) {
            (_, PullPolicy::Always) | (false, PullPolicy::Missing) => {
                self.pull(image, reporter).await?;
                true
            }
            (false, PullPolicy::Never) => {
                return Err(DockerError::ImageMissing {
                    image: image.to_string(),
                });
            }
            (true, _) => false,
        };
        let inspect = match present {
            Some(inspect) if !pulled => inspect,
            _ => self.inspect_image(image.as_str()).await?.ok_or_else(|| {
                DockerError::ImageMissing {
                    image: image.to_string(),
                }
            })?,
        };
        Ok(ImageSummary {
            reference: image.to_string(),
            id: inspect.id.clone().unwrap_or_default(),
            keycloak_version: declared_version(&inspect, image),
            pulled,
        })
    }

    /// An image by reference or id, if the engine has it.
    pub(super) async fn inspect_image(
        &self,
        image: &str,
    ) -> Result<Option<ImageInspect>, DockerError> {
        match self.docker.inspect_image(image).await {
            Ok(inspect) => Ok(Some(inspect)),
            Err(err) if is_not_found(&err) => Ok(None),
            Err(err) => Err(DockerError::operation("inspect image", image)(err)),
        }
    }

    async fn pull(&self, image: &ImageRef, reporter: &dyn Reporter) -> Result<(), DockerError> {
        let (from_image, tag) = image.pull_parameters();
        let options = CreateImageOptionsBuilder::default()
            .from_image(&from_image)
            .tag(&tag)
            .build();
        reporter.pull_started(image.as_str());
        let mut stream = self.docker.create_image(Some(options), None, None);
        let result = loop {
            match stream.next().await {
                None => break Ok(()),
                Some(Err(source)) => {
                    break Err(DockerError::Pull {
                        image: image.to_string(),
                        source,
                    });
                }
                Some(Ok(info)) => {
                    let (Some(layer), Some(status)) = (info.id.as_deref(), info.status.as_deref())
                    else {
                        continue;
                    };
                    let bytes = info.progress_detail.as_ref().and_then(|detail| {
                        let current = u64::try_from(detail.current?).ok()?;
                        let total = u64::try_from(detail.total?).ok()?;
                        (total > 0).then_some((current, total))
                    });
                    reporter.pull_progress(&LayerProgress {
                        layer,
                        status,
                        bytes,
                    });
                }
            }
        };
        reporter.pull_finished(image.as_str());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_registry_port_from_tag() {
        let image: ImageRef = "127.0.0.1:5000/kcdev-test/keycloak:26.7.5".parse().unwrap();
        assert_eq!(
            image.pull_parameters(),
            ("127.0.0.1:5000/kcdev-test/keycloak".into(), "26.7.5".into())
        );
        let untagged: ImageRef = "127.0.0.1:5000/keycloak".parse().unwrap();
        assert_eq!(untagged.tag(), None);
        assert_eq!(untagged.pull_parameters().1, "latest");
        let digest = format!("sha256:{}", "ab".repeat(32));
        let pinned: ImageRef = format!("quay.io/keycloak/keycloak@{digest}")
            .parse()
            .unwrap();
        assert_eq!(
            pinned.pull_parameters(),
            (format!("quay.io/keycloak/keycloak@{digest}"), String::new())
        );
        for bad in [
            "",
            "repo:",
            "team/UPPER:1",
            "keycloak:${TAG}",
            "quay.io/keycloak/keycloak@sha256:abc",
            "a//b",
            "-a/b",
            "a/b:-tag",
            "bad image",
            "\"quoted\"",
        ] {
            assert!(bad.parse::<ImageRef>().is_err(), "{bad:?}");
        }
        for good in [
            "keycloak",
            "localhost/kcdev-test/keycloak:26.7.5",
            "Registry.Example:443/team/kc_dev-x:v26.7.5_rc1",
            "kcdev-test/keycloak:26.7.5",
        ] {
            assert!(good.parse::<ImageRef>().is_ok(), "{good:?}");
        }
    }

    #[test]
    fn reads_versions_as_keycloak_spells_them() {
        assert_eq!(
            parse_keycloak_version("26.7.5"),
            Some(Version::new(26, 7, 5))
        );
        assert_eq!(
            parse_keycloak_version("26.6.0-1"),
            Some(Version::new(26, 6, 0))
        );
        assert_eq!(parse_keycloak_version("26.7"), Some(Version::new(26, 7, 0)));
        assert_eq!(parse_keycloak_version("v25"), Some(Version::new(25, 0, 0)));
        assert_eq!(parse_keycloak_version("latest"), None);
        assert_eq!(parse_keycloak_version("nightly"), None);
        assert_eq!(parse_keycloak_version("1.2.3.4"), None);
    }
}
