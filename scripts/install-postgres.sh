#!/usr/bin/env bash
# Installs Debian's PostgreSQL server for the tests: bench/postgres_server.py runs initdb into a temporary
# directory and starts a server there for each test session, as an unprivileged user; nothing else runs.
# Idempotent: does nothing when a server's binaries are already under /usr/lib/postgresql/*/bin.
# Uses apt-get when run as root, sudo -n otherwise. The PostgreSQL tests are never skipped, so when the
# server cannot be installed this says how and exits 1 (`make test` stops here with that line).
set -u
PACKAGES=(postgresql)

installed() {
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}
version() {
  local initdb
  initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
  "$initdb" --version 2>/dev/null
}

if installed; then
  echo "install-postgres: $(version) is already installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-postgres: no apt-get here; install a PostgreSQL server and set PG_BIN to the folder of its initdb and pg_ctl"
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "install-postgres: not root and no password-less sudo; run: sudo apt-get install -y ${PACKAGES[*]}"
  exit 1
fi
# Debian's package would create and start a "main" cluster on port 5432; the tests start their own
# server in a temporary directory, so tell postgresql-common not to create one (a file of ours in its
# drop-in folder, read when the package is configured).
"${SUDO[@]}" mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" | "${SUDO[@]}" tee /etc/postgresql-common/createcluster.d/telecrm-slack-tests.conf >/dev/null
echo "install-postgres: installing ${PACKAGES[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq || echo "install-postgres: apt-get update failed"
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null; then
  echo "install-postgres: apt-get could not install ${PACKAGES[*]}; the PostgreSQL tests cannot run"
  exit 1
fi
if ! installed; then
  echo "install-postgres: ${PACKAGES[*]} is installed but no server is under /usr/lib/postgresql/*/bin"
  exit 1
fi
echo "install-postgres: installed $(version)"
exit 0
