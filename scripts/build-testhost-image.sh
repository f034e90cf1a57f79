#!/usr/bin/env bash
# Build the Debian 12 test-host image locally from Debian's packages (there is no image
# registry here) and cache it by a hash of this script, so a second run builds nothing.
# Usage: scripts/build-testhost-image.sh        -> prints the image reference
set -euo pipefail

repo_name=podnet-testhost
# Everything a podnet scenario needs inside a test host. Services a scenario starts on
# purpose (docker, containerd, etcd) are disabled in the image and enabled by that scenario.
packages=(
  systemd systemd-sysv dbus udev python3 python3-apt sudo
  iproute2 iputils-ping nftables iptables ethtool procps kmod
  openssh-server socat iperf3 tcpdump wireguard-tools wireguard-go
  containernetworking-plugins etcd-server etcd-client
  docker.io busybox-static ca-certificates
)
disabled_units=(docker.service docker.socket containerd.service etcd.service ssh.service
                apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer)

tag=$(sha256sum "$0" | cut -c1-12)
image="${repo_name}:${tag}"
if docker image inspect "$image" >/dev/null 2>&1; then
  docker tag "$image" "${repo_name}:latest"
  echo "$image"
  exit 0
fi

# The mirror comes from this machine's own apt configuration: nothing is hard-coded.
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || { echo "build-testhost-image: no Debian mirror in /etc/apt sources" >&2; exit 1; }

workdir=$(mktemp -d /var/tmp/podnet-rootfs.XXXXXX)
trap 'rm -rf "$workdir"' EXIT
rootfs="$workdir/rootfs"
echo "build-testhost-image: debootstrap into $rootfs" >&2
debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
  bookworm "$rootfs" "$mirror" >"$workdir/debootstrap.log" 2>&1 || {
  tail -n 30 "$workdir/debootstrap.log" >&2; exit 1; }

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
chroot "$rootfs" systemctl enable ssh-hostkeys.service >/dev/null
echo 'podnet-testhost' >"$rootfs/etc/hostname"
rm -f "$rootfs"/var/cache/apt/archives/*.deb

tar -C "$rootfs" -c . | docker import \
  -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' \
  - "$image" >/dev/null
docker tag "$image" "${repo_name}:latest"
echo "$image"
