# Runs in a container of kcdev's built image, with Keycloak's runtime arguments: starts Keycloak on
# the empty data directory (the database is migrated and the master realm created, without an
# admin user), waits until it is ready, and stops it cleanly so that H2 closes its file.
/opt/keycloak/bin/kc.sh "$@" &
keycloak=$!
ready() {
  exec 3<>/dev/tcp/127.0.0.1/9000 &&
    printf 'GET /health/ready HTTP/1.0\r\n\r\n' >&3 &&
    grep -q '"UP"' <&3
}
until (ready) 2>/dev/null; do
  if ! kill -0 "$keycloak" 2>/dev/null; then
    echo "seed-database: Keycloak exited before it was ready" >&2
    exit 1
  fi
  sleep 0.5
done
kill -TERM "$keycloak"
wait "$keycloak"
test -s /opt/keycloak/data/h2/keycloakdb.mv.db
