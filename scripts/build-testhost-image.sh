#!/usr/bin/env bash
# Build a test-host image locally from Debian's packages (there is no image registry here)
# and record the Debian packages its hosts will ask for, so that tests never download.
#   scripts/build-testhost-image.sh [bookworm|trixie]   -> prints the image reference
#
# The image is as bare as a stock Debian server (docs/testing.md lists each package and
# why): every package a podnet role needs, the role installs in its own run, and what only
# tests need, a scenario's prepare step installs. Test hosts have no route out, so they
# install through the lab's apt proxy (scripts/apt-proxy.py serve, on the lab router),
# which answers from the cache recorded here: $PODNET_APT_CACHE (/var/cache/podnet-apt),
# kept between runs. Image and recording are cached together by a hash of this recipe
# (this script, the proxy, the roles' package lists); a second run builds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

release=${1:-bookworm}
case "$release" in bookworm|trixie) ;; *) echo "build-testhost-image: release bookworm or trixie, not '$release'" >&2; exit 2;; esac
repo_name=podnet-testhost
apt_cache=${PODNET_APT_CACHE:-/var/cache/podnet-apt}

# What a stock Debian server install has, and nothing any podnet role installs
# (tests/unit/test_testhost_image.py holds the two apart).
packages=(
  systemd systemd-sysv dbus udev kmod procps iproute2 iputils-ping netbase
  python3 sudo openssh-server ca-certificates
)
# What the tests themselves use on test hosts; installed by the scenarios' prepare step
# and the lab (playbooks/lab/tools.yml), never by podnet.
test_tools=$(sed -n 's/^ *- \([a-z0-9.+-]*\) *$/\1/p' playbooks/lab/vars/test-tools.yml)
# Every package any role of podnet installs: read from the roles, so a new one is recorded.
role_packages=$(.venv/bin/python scripts/role-packages.py)

disabled_units=(ssh.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer)

tag=$(cat "$0" scripts/apt-proxy.py playbooks/lab/vars/test-tools.yml <(echo "$role_packages") \
      | sha256sum | cut -c1-12)
image="${repo_name}:${release}-${tag}"
stamp="$apt_cache/.recorded-${release}-${tag}"
tag_aliases() {
  docker tag "$image" "${repo_name}:${release}"
  [ "$release" != bookworm ] || docker tag "$image" "${repo_name}:latest"
}
if docker image inspect "$image" >/dev/null 2>&1 && [ -e "$stamp" ]; then
  tag_aliases
  echo "$image"
  exit 0
fi

# The mirror comes from this machine's own apt configuration: nothing is hard-coded.
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || { echo "build-testhost-image: no Debian mirror in /etc/apt sources" >&2; exit 1; }
case "$mirror" in http://*) ;; *) echo "build-testhost-image: the apt proxy records plain http mirrors only, not $mirror" >&2; exit 1;; esac

workdir=$(mktemp -d /var/tmp/podnet-rootfs.XXXXXX)
proxy_pid=
cleanup() {
  [ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT
rootfs="$workdir/rootfs"
echo "build-testhost-image: debootstrap $release into $rootfs" >&2
debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
  "$release" "$rootfs" "$mirror" >"$workdir/debootstrap.log" 2>&1 || {
  tail -n 30 "$workdir/debootstrap.log" >&2; exit 1; }

# --- Record what the test hosts will download ---------------------------------------------
# The image's own apt, through the proxy in record mode, asks for exactly what a test host
# of this image will ask for: its package lists (InRelease, by-hash indexes) and the .debs
# of every role's packages and the test tools with all they depend on (as podnet installs
# them: no recommends), each role's alone too (apt may pick other alternatives for a
# smaller set). Recorded into a fresh directory,
# then merged, so the release's InRelease and its indexes always belong together.
record="$workdir/record"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 scripts/apt-proxy.py record --cache "$record" --port "$port" 2>"$workdir/proxy.log" &
proxy_pid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
in_root_apt() {
  chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive LC_ALL=C \
    apt-get -q -o Acquire::http::Proxy="http://127.0.0.1:$port" "$@" >>"$workdir/record.log" 2>&1 || {
    tail -n 30 "$workdir/record.log" >&2; echo "build-testhost-image: apt-get $* failed in $release" >&2; exit 1; }
}
rm -rf "$rootfs"/var/lib/apt/lists/*
in_root_apt update
# shellcheck disable=SC2086  # word lists
in_root_apt install --download-only --no-install-recommends -y $role_packages $test_tools
while read -r group; do
  # shellcheck disable=SC2086
  [ -z "$group" ] || in_root_apt install --download-only --no-install-recommends -y $group
done < <(.venv/bin/python scripts/role-packages.py --groups)
kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true; proxy_pid=
mkdir -p "$apt_cache"
cp -a "$record/." "$apt_cache/"
echo "build-testhost-image: recorded $(find "$record" -name '*.deb' | wc -l) packages ($(du -sh "$record" | cut -f1)) for $release into $apt_cache" >&2

# --- The image: as a stock install, with empty package lists like a fresh server --------
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin
chroot "$rootfs" systemctl disable "${disabled_units[@]}" >/dev/null 2>&1 || true
# Units that make no sense in a container and would show as failed.
chroot "$rootfs" systemctl mask systemd-udevd.service systemd-udev-trigger.service \
  systemd-modules-load.service sys-kernel-config.mount getty@tty1.service \
  console-getty.service systemd-firstboot.service >/dev/null 2>&1 || true
# sshd is started by the lab after it installs a key; allow root logins by key only.
printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n' \
  >"$rootfs/etc/ssh/sshd_config.d/testlab.conf"
rm -f "$rootfs"/etc/ssh/ssh_host_*_key*            # regenerated per container at boot
cat >"$rootfs/etc/systemd/system/ssh-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate this test host's own SSH host keys
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
UNIT
chroot "$rootfs" systemctl enable ssh-hostkeys.service >/dev/null 2>&1
echo 'podnet-testhost' >"$rootfs/etc/hostname"

tar -C "$rootfs" -c . | docker import \
  -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' \
  - "$image" >/dev/null
touch "$stamp"
tag_aliases
echo "$image"
