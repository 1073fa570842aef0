#!/usr/bin/env bash
# Installs what vigil needs to build, test and benchmark on Debian 12. Idempotent: a package that
# is already installed is not touched, and apt is not called at all when nothing is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libpq-dev libspdlog-dev libcli11-dev libjwt-dev libexpected-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  curl
)
case "${1:-}" in
  --bench) packages+=(wrk nginx libnginx-mod-nchan bc) ;;
  --browser) packages+=(chromium) ;;  # the UI's end-to-end tests drive Debian's Chromium
  # The PostgreSQL store's tests start their own throwaway server (scripts/test-postgres.sh) from
  # Debian's binaries in /usr/lib/postgresql/15/bin.
  --postgres) packages+=(postgresql) ;;
  # A cluster on one machine (scripts/cluster.sh): PostgreSQL and nginx in front of the nodes.
  --cluster) packages+=(postgresql nginx) ;;
  '') ;;
  *) echo "install-deps: unknown option $1 (--bench, --browser, --postgres, --cluster)" >&2; exit 2 ;;
esac
# The UI is built with Node.js and npm: the machine's own when it has them (Vite needs Node 20.19
# or later), else Debian's.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  # The tests start their own PostgreSQL; the package's default cluster would only idle on 5432.
  if [[ " ${missing[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.d/vigil.conf ]; then
    $SUDO mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/vigil.conf >/dev/null
  fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
