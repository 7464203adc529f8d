//! The JVM options of an optimized boot.
//!
//! Most of what a new Keycloak JVM spends before Quarkus runs is loading, parsing and verifying
//! some 23,000 classes. The seeding (see [`super::derive`]) ends with a training run: a second
//! boot of the built image, on the database just seeded, that is asked what a new instance is
//! asked first (its admin made, an admin login, the admin API reads of provisioning, the realm's
//! discovery, keys and login page). Its JVM writes the classes it loaded into a dynamic
//! class-data sharing archive when it exits (`-XX:ArchiveClassesAtExit`, JDK 13 and later: the
//! test image's JDK 17 and the official image's JDK 21 alike), on top of the JDK's own base
//! archive, and the seeded image carries it. A container booting from the seeded image maps it
//! (`-XX:SharedArchiveFile`) instead of loading those classes one by one: measured on the test
//! image, 16,000 of the 23,000 classes come from the archive and the boot to ready uses about a
//! quarter less CPU (6.3 s instead of 8.6 s, median of three; the serial collector, one compiler
//! thread, a smaller thread stack or no perf data saved nothing measurable beyond that).
//!
//! The archive is valid only for the classpath and the JVM it was made with; both are the
//! image's own (`kc.sh` launches `-cp lib/quarkus-run.jar`, Quarkus's class loader reads the
//! same jars), and the options that would invalidate it (compressed pointers, the JDK) do not
//! change between the seeding and an instance. Should it still not fit, `-Xshare:auto` makes the
//! JVM boot without it, only more slowly.
//!
//! JDK 25's AOT cache (`-XX:AOTCacheOutput`, classes loaded and linked ahead of time) was
//! measured against this archive on the test image rebuilt on Debian's JDK 25: 3.91 s to ready
//! instead of 4.10 s, 5 % for a cache of 160 MB that neither the test image's JDK 17 nor the
//! official image's JDK 21 can use; not worth a second way of training yet.

/// Only the quick (C1) JIT compiler: on two cores the optimizing one competes with Keycloak for
/// the CPU through boot and the first requests (measured: about 2.5 s of a new instance's 12),
/// and a local identity provider never runs long enough to pay it back.
const QUICK_START: &str = "-XX:TieredStopAtLevel=1";

/// Where the seeding writes the archive: beside the jars it describes, in a directory Keycloak's
/// user owns in both images, outside the data directory (a volume in instances).
pub const CLASS_ARCHIVE: &str = "/opt/keycloak/lib/kcdev-classes.jsa";

/// `JAVA_OPTS_APPEND` of the seeding's training boot, which writes the archive. The JVM logs a
/// warning per class it cannot archive (thousands: classes loaded but never linked, pre-Java 6
/// bytecode); only errors are worth the seeding's log.
pub fn training_options() -> String {
    format!("{QUICK_START} -XX:ArchiveClassesAtExit={CLASS_ARCHIVE} -Xlog:cds*=error")
}

/// The archive is mapped where it was made to be, not at a random address: recent JDK 17 and 21
/// builds default to the random one, whose pointer relocation costs the JVM's creation 0.4 s with
/// an archive this size (0.07 s instead of 0.5 s measured). ASLR of class metadata matters little
/// to a local development server. The option is a diagnostic one in both JDKs; should a later JDK
/// drop it, the JVM ignores it instead of refusing to start.
const FIXED_ARCHIVE_ADDRESS: &str =
    "-XX:+IgnoreUnrecognizedVMOptions -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0";

/// `JAVA_OPTS_APPEND` of an instance's optimized boot, `with_archive` when its image is a seeded
/// one (a built image has no archive, and naming a missing one would turn off the JDK's base
/// archive too).
pub fn runtime_options(with_archive: bool) -> String {
    if with_archive {
        format!(
            "{QUICK_START} -Xshare:auto -XX:SharedArchiveFile={CLASS_ARCHIVE} {FIXED_ARCHIVE_ADDRESS}"
        )
    } else {
        QUICK_START.to_owned()
    }
}

/// Everything about the JVM options that the derived images depend on: part of their name, so
/// that another way of making or using the archive derives new images.
pub fn derivation_fingerprint() -> String {
    format!("{}\0{}", training_options(), runtime_options(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_is_trained_and_used_under_the_same_path_and_compiler_settings() {
        let training = training_options();
        let runtime = runtime_options(true);
        assert!(training.contains(&format!("-XX:ArchiveClassesAtExit={CLASS_ARCHIVE}")));
        assert!(runtime.contains(&format!("-XX:SharedArchiveFile={CLASS_ARCHIVE}")));
        assert!(
            runtime.contains("-Xshare:auto"),
            "an unusable archive must not abort"
        );
        for options in [&training, &runtime] {
            assert!(options.starts_with(QUICK_START));
        }
        assert_eq!(runtime_options(false), QUICK_START);
        assert!(!derivation_fingerprint().is_empty());
    }
}
