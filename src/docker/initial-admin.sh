# Runs inside the Keycloak container: creates the master realm's first admin through the welcome
# page, which Keycloak offers only to requests from the container itself and only while the
# master realm has no user. KCDEV_ADMIN_USERNAME and KCDEV_ADMIN_PASSWORD are letters and digits.
set -e
exec 3<>/dev/tcp/127.0.0.1/8080
printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
state=$(grep -a -o -m1 'WELCOME_STATE_CHECKER=[^;]*' <&3 | cut -d= -f2)
exec 3<&-
body="username=${KCDEV_ADMIN_USERNAME}&password=${KCDEV_ADMIN_PASSWORD}&passwordConfirmation=${KCDEV_ADMIN_PASSWORD}&stateChecker=${state}"
exec 3<>/dev/tcp/127.0.0.1/8080
printf 'POST / HTTP/1.1\r\nHost: localhost\r\nCookie: WELCOME_STATE_CHECKER=%s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
  "$state" "${#body}" "$body" >&3
grep -a -o -m1 'User created' <&3 || true
