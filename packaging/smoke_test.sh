#!/usr/bin/env bash
# Smoke-test the .deb as an administrator would: install it with apt-get, use it with no
# virtualenv and no source tree anywhere near, then remove it and check nothing is left.
#
#   packaging/smoke_test.sh [dist/strongroom_*.deb]      (as root: it installs a package)
#
# Prints the install size and the bundled console's start time.
set -euo pipefail
cd "$(dirname "$0")/.."
DEB=$(readlink -f "${1:-$(ls dist/strongroom_*.deb | head -n 1)}")
[ "$(id -u)" = 0 ] || { echo "smoke test: run as root (it installs $DEB)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/strongroom-smoke-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "smoke test FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

# A clean environment: no virtualenv, no PYTHONPATH, no source tree, a fresh home.
clean() {
  (cd "$WORK" && env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$WORK/home" LANG=C.UTF-8 \
    QT_QPA_PLATFORM=offscreen STRONGROOM_HOME="$WORK/strongroom" "$@")
}

step "install $(basename "$DEB")"
dpkg -s strongroom >/dev/null 2>&1 && apt-get remove -y -qq strongroom >/dev/null
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$DEB" >/dev/null
[ -x /opt/strongroom/strongroom-gui ] || fail "/opt/strongroom/strongroom-gui is missing after install"
for path in /usr/bin/strongroom /usr/bin/strongroom-gui /usr/share/applications/strongroom.desktop \
            /usr/share/icons/hicolor/scalable/apps/strongroom.svg /usr/share/metainfo/org.strongroom.Strongroom.metainfo.xml; do
  [ -e "$path" ] || fail "$path is missing after install"
done
INSTALL_MIB=$(du -sm /opt/strongroom | cut -f1)

step "strongroom --version"
VERSION=$(clean strongroom --version) || fail "strongroom --version"
echo "$VERSION"
[ "$(command -v strongroom)" = /usr/bin/strongroom ] || fail "strongroom on PATH is $(command -v strongroom)"

step "every store type is in the bundle"
TYPES=$(clean strongroom store add --help) || fail "strongroom store add --help"
for type in folder sqlite postgresql mariadb; do
  echo "$TYPES" | grep -q "$type" || fail "the bundle does not know the store type $type"
done

step "test data: a folder tree and a SQLite database"
mkdir -p "$WORK/home" "$WORK/docs/sub dir/deeper" "$WORK/out"
head -c 3000000 /dev/urandom > "$WORK/docs/random.bin"
seq 1 200000 > "$WORK/docs/sub dir/numbers.txt"
printf 'grüße\n' > "$WORK/docs/sub dir/deeper/ünïcødé.txt"
ln -s "sub dir/numbers.txt" "$WORK/docs/link-to-numbers"
: > "$WORK/docs/empty"
# The bundle carries Python: build the database with it, through a throw-away script.
cat > "$WORK/make_db.py" <<'PY'
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
connection.executemany("INSERT INTO t (body) VALUES (?)", [("row %d " % n * 20,) for n in range(20000)])
connection.commit()
connection.close()
PY
python3 "$WORK/make_db.py" "$WORK/crm.db" 2>/dev/null || fail "python3 is needed to make the test database"

step "backup and restore through the installed command line"
clean strongroom store add docs --type folder "$WORK/docs" >/dev/null
clean strongroom store add crm --type sqlite "$WORK/crm.db" >/dev/null
clean strongroom backup docs crm || fail "backup"
clean strongroom restore docs --to "$WORK/out/docs" || fail "restore of the folder store"
clean strongroom restore crm --to "$WORK/out/crm" || fail "restore of the SQLite store"
diff -r --no-dereference "$WORK/docs" "$WORK/out/docs" || fail "the restored folder differs"
[ "$(readlink "$WORK/out/docs/link-to-numbers")" = "sub dir/numbers.txt" ] || fail "the link was not restored as a link"
# Byte for byte, except SQLite's two header counters that any copy rewrites: the file
# change counter (bytes 25-28) and version-valid-for (93-96).
[ "$(stat -c %s "$WORK/crm.db")" = "$(stat -c %s "$WORK/out/crm/crm.db")" ] || fail "the restored database's size differs"
DIFFERENT=$( (cmp -l "$WORK/crm.db" "$WORK/out/crm/crm.db" || true) | awk '$1 < 25 || ($1 > 28 && $1 < 93) || $1 > 96' | wc -l)
[ "$DIFFERENT" = 0 ] || fail "the restored database differs in $DIFFERENT bytes beyond its header counters"
echo "folder: $(find "$WORK/out/docs" -type f | wc -l) files identical; SQLite: $(stat -c %s "$WORK/crm.db") bytes identical but for the header's change counters"
clean strongroom verify "$(clean strongroom sets docs --json | grep -o '"id": "[^"]*"' | head -n 1 | cut -d'"' -f4)" \
  >/dev/null || fail "verify"

step "the agent's systemd units"
for unit in /usr/lib/systemd/system/strongroom-agent.service /usr/lib/systemd/user/strongroom-agent.service; do
  [ -f "$unit" ] || fail "$unit is missing after install"
  # The user unit is checked as a file: a root shell without a user manager cannot load it with --user.
  OUTPUT=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify $unit: $OUTPUT"
  [ -z "$OUTPUT" ] || fail "systemd-analyze verify $unit said: $OUTPUT"
done
echo "both units pass systemd-analyze verify"

step "the installed agent catches up an overdue plan, then stops on SIGTERM"
clean strongroom plan add nightly --store docs --schedule "daily 02:30" >/dev/null || fail "plan add"
python3 - "$WORK/strongroom/catalog.sqlite" <<'PY' || fail "could not make the plan overdue"
import sqlite3, sys
with sqlite3.connect(sys.argv[1]) as connection:
    connection.execute("UPDATE plans SET handled_slot = '2020-01-01T00:00:00.000Z'")
PY
# Not through clean()'s subshell: $! must be the agent's own pid, for the SIGTERM (env execs it).
env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$WORK/home" LANG=C.UTF-8 STRONGROOM_HOME="$WORK/strongroom" \
  strongroom agent --poll 0.5 > "$WORK/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 1 120); do
  clean strongroom plan list --json | grep -q '"result": "succeeded"' && break
  sleep 0.5  # polling another process; bounded by the loop
done
clean strongroom plan list --json | grep -q '"result": "succeeded"' || { cat "$WORK/agent.log"; fail "the agent did not run the plan"; }
kill -TERM "$AGENT"
AGENT_EXIT=0
timeout 30 tail --pid="$AGENT" -f /dev/null || fail "the agent did not stop within 30 s of SIGTERM"
wait "$AGENT" || AGENT_EXIT=$?
[ "$AGENT_EXIT" = 0 ] || { cat "$WORK/agent.log"; fail "the agent exited with $AGENT_EXIT"; }
grep -q "catching up the run due at" "$WORK/agent.log" && grep -q "agent stopped" "$WORK/agent.log" \
  || { cat "$WORK/agent.log"; fail "the agent's log lacks its catch-up or its stop"; }
echo "the agent ran the overdue plan once and exited 0 on SIGTERM"

step "strongroom-gui --self-test (offscreen)"
clean strongroom-gui --self-test || fail "the console's self-test"

step "the bundled console's start time (to its main window shown, offscreen; median of 5)"
times=()
for _ in 1 2 3 4 5; do
  start=$(date +%s%N)
  clean strongroom-gui --startup-probe >/dev/null 2>&1 || fail "strongroom-gui --startup-probe"
  times+=($(( ($(date +%s%N) - start) / 1000000 )))
done
START_MS=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)

step "remove the package"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq strongroom >/dev/null
for path in /opt/strongroom /usr/bin/strongroom /usr/bin/strongroom-gui /usr/share/applications/strongroom.desktop \
            /usr/share/metainfo/org.strongroom.Strongroom.metainfo.xml /usr/lib/systemd/system/strongroom-agent.service \
            /usr/lib/systemd/user/strongroom-agent.service; do
  [ ! -e "$path" ] && [ ! -L "$path" ] || fail "$path is still there after removal"
done

echo
echo "smoke test passed: $VERSION; package $(du -h "$DEB" | cut -f1), installed size ${INSTALL_MIB} MiB;" \
     "console start to window shown and closed: ${START_MS} ms (median of 5, runs: ${times[*]} ms)"
