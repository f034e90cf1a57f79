#!/usr/bin/env bash
# ansible-test on podnet.network, as Ansible users check a collection: `sanity` (every test
# that runs offline: compile, import, pep8, pylint, validate-modules, ansible-doc, yamllint,
# runtime-metadata, ...) and `units`, in the order given, on one build of the collection.
#   scripts/ansible-test.sh sanity [units]
#
# It checks what users get: the collection is built (ansible-galaxy collection build, so
# build_ignore applies) and installed at a real .../ansible_collections/podnet/network path
# outside this checkout (inside it, ansible-test would ask this checkout's git for the
# files), made a repository of its own there. Its
# test environments come from PyPI; the one file it would fetch from elsewhere (the script
# that bootstraps pip into them) is replaced by a stand-in that installs pip from PyPI's
# wheel, kept in ansible-test's cache (~/.ansible/test/cache) between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$#" -gt 0 ] || { echo "usage: scripts/ansible-test.sh sanity [units]" >&2; exit 2; }
for command in "$@"; do
  case "$command" in sanity|units) ;; *) echo "scripts/ansible-test.sh: sanity or units, not '$command'" >&2; exit 2 ;; esac
done

checkout=$PWD
work=${PODNET_ANSIBLE_TEST_DIR:-/var/tmp/podnet-ansible-test}
root=$work/ansible_collections/podnet/network
rm -rf "$work"
mkdir -p "$work/dist"
.venv/bin/ansible-galaxy collection build --force --output-path "$work/dist" . >/dev/null
.venv/bin/ansible-galaxy collection install --force --no-deps -p "$work" "$work"/dist/podnet-network-*.tar.gz >/dev/null
git -C "$root" init -q && git -C "$root" add -A

# pip's bootstrap, offline: pip 24.2's wheel from PyPI, and the stand-in ansible-test runs.
cache="$HOME/.ansible/test/cache"
wheel="$cache/pip-24.2-py3-none-any.whl"
if [ ! -s "$wheel" ]; then
  mkdir -p "$cache"
  for attempt in 1 2 3; do
    .venv/bin/pip download -q --no-deps pip==24.2 -d "$cache" && break
    echo "ansible-test: PyPI did not answer (attempt $attempt of 3); retrying in 10 s" >&2
    sleep 10
  done
  [ -s "$wheel" ] || { echo "ansible-test: could not download pip 24.2 from PyPI" >&2; exit 1; }
fi
cat >"$cache/get_pip_24_2.py" <<PY
# Stand-in for get-pip-24.2.py (written by podnet's scripts/ansible-test.sh): pip from its wheel.
import sys
sys.path.insert(0, "$wheel")
from pip._internal.cli.main import main
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall"] + args))
PY

cd "$root"
for command in "$@"; do
  case "$command" in
    sanity) "$checkout/.venv/bin/ansible-test" sanity --python 3.11 --local --color no ;;
    units) "$checkout/.venv/bin/ansible-test" units --python 3.11 --venv --color no ;;
  esac
done
