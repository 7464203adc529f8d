# Runs in a container of kcdev's built image, with Keycloak's runtime arguments: starts Keycloak on
# the empty data directory with `--import-realm` (the database is migrated, the master realm
# created without an admin user, and kcdev's default realm imported from data/import), waits until
# it is ready, checks that the realm $KCDEV_SEED_REALM is there, and stops Keycloak cleanly so that
# H2 closes its file. The import file goes: instances get the realm from the database. So do the
# realms' keys (below).
#
# Then a second boot trains the JVM's class archive ($KCDEV_TRAINING_JAVA_OPTS): it boots as an
# instance does, on the seeded database, and is asked what a new instance is asked first (its
# admin made through the welcome page, an admin login, the admin API reads of a realm's
# provisioning, the realm's discovery, keys and login page), so the classes all of that loads are
# in the archive too. It works on a copy of the data directory, which is put back afterwards:
# the admin and sessions it makes are not seeded.
start() { # JVM options, then Keycloak's arguments
  JAVA_OPTS_APPEND="$1" /opt/keycloak/bin/kc.sh "${@:2}" &
  keycloak=$!
}
stop() {
  kill -TERM "$keycloak"
  wait "$keycloak"
}
request() { # port, method, path, extra header lines (with \r\n escapes), form body: prints the response
  exec 3<>"/dev/tcp/127.0.0.1/$1" &&
    printf '%s %s HTTP/1.0\r\nHost: localhost\r\n%bContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s' \
      "$2" "$3" "$4" "${#5}" "$5" >&3 &&
    cat <&3
}
answers() { # port, path, a pattern the response matches
  request "$1" GET "$2" '' '' | grep -q "$3"
}
wait_ready() {
  # By the status code: a body that says DOWN still has a check that says UP.
  until (answers 9000 /health/ready '^HTTP/[0-9.]* 200') 2>/dev/null; do
    if ! kill -0 "$keycloak" 2>/dev/null; then
      echo "seed-database: Keycloak exited before it was ready" >&2
      exit 1
    fi
    sleep 0.5
  done
}
start "$KCDEV_SEEDING_JAVA_OPTS" "$@" --import-realm
wait_ready
# A few tries: on a loaded machine the first request may meet a server still warming up.
imported=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
  if (answers 8080 "/realms/$KCDEV_SEED_REALM" '^HTTP/[0-9.]* 200') 2>/dev/null; then
    imported=1
    break
  fi
  sleep 1
done
stop
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
test -s /opt/keycloak/data/h2/keycloakdb.mv.db || exit 1

# The training boot. A request that fails only leaves its classes out of the archive.
status() { # path, extra header lines: the status code Keycloak answers a GET with
  request 8080 GET "$1" "$2" '' 2>/dev/null | head -c 12 | cut -c10-12
}
# Contents, not the directory: Keycloak's home need not be writable by Keycloak's user.
shopt -s dotglob
mkdir /tmp/seeded-data && cp -a /opt/keycloak/data/* /tmp/seeded-data/ || exit 1
start "$KCDEV_TRAINING_JAVA_OPTS" "$@"
wait_ready
password="training$RANDOM$RANDOM"
KCDEV_ADMIN_USERNAME=training KCDEV_ADMIN_PASSWORD=$password bash -c "$KCDEV_CREATE_ADMIN" >/dev/null 2>&1
token=$(request 8080 POST /realms/master/protocol/openid-connect/token '' \
  "grant_type=password&client_id=admin-cli&username=training&password=$password" 2>/dev/null |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
realm=/admin/realms/$KCDEV_SEED_REALM
for path in "$realm" "$realm/roles?briefRepresentation=false&max=1000" "$realm/client-scopes" \
  "$realm/default-default-client-scopes" "$realm/default-optional-client-scopes" \
  "$realm/components?type=org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy" \
  "$realm/client-policies/profiles?include-global-profiles=false" \
  "$realm/client-policies/policies?include-global-policies=false" "$realm/groups?briefRepresentation=false" \
  "$realm/users/profile" "$realm/users?briefRepresentation=false" "$realm/clients" "$realm/keys"; do
  answered+=" $(status "$path" "Authorization: Bearer $token\r\n")"
done
for path in "/realms/$KCDEV_SEED_REALM/.well-known/openid-configuration" \
  "/realms/$KCDEV_SEED_REALM/protocol/openid-connect/certs" \
  "/realms/$KCDEV_SEED_REALM/protocol/openid-connect/auth?client_id=kcdev-claude-code&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A33420%2Fcallback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeKt8URWbuWJUMIctO6I&code_challenge_method=S256&scope=openid"; do
  answered+=" $(status "$path" '')"
done
echo "seed-database: the training requests were answered${answered:- not at all}"
stop
rm -rf /opt/keycloak/data/*
cp -a /tmp/seeded-data/* /opt/keycloak/data/ || exit 1
rm -rf /tmp/seeded-data
test -s /opt/keycloak/data/h2/keycloakdb.mv.db
