#!/usr/bin/env bash
# Remove podnet's molecule test containers and networks that an interrupted run left
# behind (Docker state outlives a session). The lab (podnet-lab-*, owned by `make lab`
# and `make lab-down`), the fleet benchmark's lab (podnet-fb-*, removed by the benchmark
# itself) and developers' scratch hosts (podnet-dev-*) are left alone.
set -euo pipefail
containers=$(docker ps -aq --filter name=podnet- | while read -r id; do
  name=$(docker inspect -f '{{.Name}}' "$id"); case "$name" in /podnet-lab-*|/podnet-fb-*|/podnet-dev-*) ;; *) echo "$id";; esac
done)
[ -z "$containers" ] || docker rm -f $containers >/dev/null
for net in $(docker network ls --format '{{.Name}}' --filter name=podnet-); do
  case "$net" in podnet-lab-*|podnet-fb-*|podnet-dev-*) continue;; esac
  while iptables -D DOCKER-USER -i "$net" -o "$net" -m comment --comment podnet-lab -j ACCEPT 2>/dev/null; do :; done
  docker network rm "$net" >/dev/null
done
