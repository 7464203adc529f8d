# Runs in a container of kcdev's built image, with Keycloak's runtime arguments (`--import-realm`
# among them): starts Keycloak on the empty data directory (the database is migrated, the master
# realm created without an admin user, and kcdev's default realm imported from data/import), waits
# until it is ready, checks that the realm $KCDEV_SEED_REALM is there, and stops Keycloak cleanly
# so that H2 closes its file. The import file goes: instances get the realm from the database.
# So do the realms' keys (below).
/opt/keycloak/bin/kc.sh "$@" &
keycloak=$!
answers() { # port, path, a pattern the response matches
  exec 3<>"/dev/tcp/127.0.0.1/$1" &&
    printf 'GET %s HTTP/1.0\r\n\r\n' "$2" >&3 &&
    grep -q "$3" <&3
}
# By the status code: a body that says DOWN still has a check that says UP.
until (answers 9000 /health/ready '^HTTP/[0-9.]* 200') 2>/dev/null; do
  if ! kill -0 "$keycloak" 2>/dev/null; then
    echo "seed-database: Keycloak exited before it was ready" >&2
    exit 1
  fi
  sleep 0.5
done
# A few tries: on a loaded machine the first request may meet a server still warming up.
imported=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
  if (answers 8080 "/realms/$KCDEV_SEED_REALM" '^HTTP/[0-9.]* 200') 2>/dev/null; then
    imported=1
    break
  fi
  sleep 1
done
kill -TERM "$keycloak"
wait "$keycloak"
rm -rf /opt/keycloak/data/import
if [ "$imported" -ne 1 ]; then
  echo "seed-database: the realm $KCDEV_SEED_REALM was not imported" >&2
  exit 1
fi
# The realms' keys go: every instance made from this image would share them. Keycloak makes a
# realm's key the first time the realm needs one (its fallback keys), so each instance gets its
# own; kcdev imports the default realm's signing key at the instance's first `up`. The master
# realm signs with ES256 from now on: its key is made at the first admin login, and an EC key
# takes a just-started JVM milliseconds where an RSA key takes a second. (Should this fail, the
# keys stay, and kcdev replaces them at the instance's first `up`.)
h2=$(ls /opt/keycloak/lib/lib/main/com.h2database.h2-*.jar 2>/dev/null | head -n 1)
"${JAVA_HOME:+$JAVA_HOME/bin/}java" -cp "$h2" org.h2.tools.Shell \
  -url 'jdbc:h2:file:/opt/keycloak/data/h2/keycloakdb;NON_KEYWORDS=VALUE' -user '' -password '' \
  -sql "DELETE FROM COMPONENT_CONFIG WHERE COMPONENT_ID IN (SELECT ID FROM COMPONENT WHERE PROVIDER_TYPE = 'org.keycloak.keys.KeyProvider');
        DELETE FROM COMPONENT WHERE PROVIDER_TYPE = 'org.keycloak.keys.KeyProvider';
        UPDATE REALM_ATTRIBUTE SET VALUE = 'ES256' WHERE NAME = 'defaultSignatureAlgorithm'
          AND REALM_ID = (SELECT ID FROM REALM WHERE NAME = 'master')" \
  >/dev/null || echo "seed-database: the seeded keys stay (kcdev replaces them at first up)" >&2
test -s /opt/keycloak/data/h2/keycloakdb.mv.db
