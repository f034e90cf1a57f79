#!/usr/bin/env bash
# Bring a fresh Debian 12 machine (or this one, again) to a working podnet controller:
#   1. the Python venv .venv with the pinned requirements (skipped when unchanged) and
#      podnet's planner package installed into it (editable),
#   2. a running Docker engine (Debian's docker.io; started by hand where systemd is not PID 1),
#   3. the locally built test-host images (Debian 12 and 13) and the Debian packages their
#      hosts install, recorded for the lab's apt proxy (test hosts have no route out).
# Idempotent: a second run installs and builds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup | %s\n' "$*" >&2; }

# Package registries can be briefly unreachable: retry a download step, then stop with a
# clear message (apt and pip install nothing half-way, so a failed attempt changes nothing).
retry() {
  local what=$1 attempt
  shift
  for attempt in 1 2 3 4 5; do
    "$@" && return 0
    if [ "$attempt" -eq 5 ]; then
      log "$what did not answer after 5 attempts; run the command again later"
      exit 1
    fi
    log "$what did not answer (attempt $attempt of 5); retrying in $((attempt * 10)) s"
    sleep $((attempt * 10))
  done
}

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
command -v iptables >/dev/null 2>&1 || need_apt+=(iptables)
command -v ssh >/dev/null 2>&1 || need_apt+=(openssh-client)
# Headless Chromium renders verify.yml's fleet report in the tests, as a person sees it.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# promtool (Debian's prometheus) checks and unit-tests podnet's alert rules (docs/agent.md).
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
if [ "${#need_apt[@]}" -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  retry "the Debian package registry" \
    bash -c 'apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null' _ "${need_apt[@]}"
fi

# --- Python venv with pinned dependencies ---------------------------------------------
req_hash=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat .venv/.requirements.sha256 2>/dev/null || true)" != "$req_hash" ]; then
  log "creating .venv from requirements.txt"
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null 2>&1 || true
  retry "PyPI" .venv/bin/pip install -q -r requirements.txt
  .venv/bin/python -c 'import ansible, molecule, netaddr, testinfra, hypothesis' 
  echo "$req_hash" >.venv/.requirements.sha256
fi

# --- podnet.network from this checkout, and its planner for plain Python -------------------
# The checkout is the collection podnet.network (galaxy.yml). A link
# .cache/collections/ansible_collections/podnet/network -> this checkout lets Ansible
# (ansible.cfg's collections_path, molecule's environment) and the tests import it by its
# FQCN, exactly as an installed copy. A .pth file puts that path and the checkout (for the
# planner as plain `podnet_planner`: tests, benchmarks) on .venv's Python path: an editable
# install with nothing to download or build; edits take effect at once. Rewritten only when
# the checkout moved.
collection_link=.cache/collections/ansible_collections/podnet/network
if [ "$(readlink "$collection_link" 2>/dev/null || true)" != "$PWD" ]; then
  log "linking the collection podnet.network to this checkout ($collection_link)"
  mkdir -p "$(dirname "$collection_link")"
  ln -sfn "$PWD" "$collection_link"
fi
site_packages=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
pth=$(printf '%s\n%s' "$PWD" "$PWD/.cache/collections")
if [ "$(cat "$site_packages/podnet-planner.pth" 2>/dev/null || true)" != "$pth" ]; then
  log "installing podnet.network and its planner into .venv (editable, $PWD)"
  echo "$pth" >"$site_packages/podnet-planner.pth"
fi
.venv/bin/python -c 'import podnet_planner, ansible_collections.podnet.network.plugins.plugin_utils.planner'

# --- Docker engine ------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
    log "starting docker.service"
    systemctl start docker
  else
    log "starting dockerd in the background (no systemd here); log in /var/log/podnet-dockerd.log"
    # In a session of its own: ending the shell or job that ran setup (its process group)
    # must not take the engine, and every test container, down with it.
    setsid nohup dockerd >>/var/log/podnet-dockerd.log 2>&1 </dev/null &
  fi
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { log "the Docker engine did not start; see /var/log/podnet-dockerd.log"; exit 1; }
fi

# --- Room for many systemd test hosts ---------------------------------------------------
# Every test host runs systemd, which takes inotify instances from the machine's shared
# per-user budget (128 by default): a few scenarios' worth of hosts exhaust it and new
# hosts hang at boot. Raise it (runtime only; nothing is persisted on the machine).
if [ "$(cat /proc/sys/fs/inotify/max_user_instances)" -lt 1024 ]; then
  log "raising fs.inotify.max_user_instances to 1024 for systemd test hosts"
  sysctl -qw fs.inotify.max_user_instances=1024
fi

# --- Test-host images -------------------------------------------------------------------------
# Debian 12 for every scenario and the lab; Debian 13 for a zone of a fleet mid-upgrade
# (molecule/encrypted). Each retried as a whole: a half-built image is never tagged.
for release in bookworm trixie; do
  retry "the Debian package registry (test-host image $release)" \
    bash -c 'scripts/build-testhost-image.sh "$1" >/dev/null' _ "$release"
  log "test-host image: $(scripts/build-testhost-image.sh "$release")"
done
