#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Install the Debian packages a node lacks, asking dpkg (not apt's cache) what it has."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_packages
short_description: Install the packages of podnet's concerns that a Debian-family node lacks
description:
  - Asks dpkg which of O(names) are installed (one C(dpkg-query) call, a few milliseconds)
    and runs C(apt-get install) for the missing ones only. On a node that has them all
    (every run after the first) it changes nothing and never opens apt's package cache.
  - Why not M(ansible.builtin.apt) - it loads apt's whole package cache on every run, about
    one second of CPU per node even when nothing is missing; on a fleet that is the most
    expensive task of a no-op run.
  - When C(apt-get install) cannot find a package (package lists missing or stale), the
    lists are refreshed once with C(apt-get update) and the install tried again.
  - Installs only; packages are never removed (other software may need them).
  - Installs the named packages and what they depend on, never what they only recommend
    (C(--no-install-recommends)). Why - wireguard-tools recommends C(wireguard-modules),
    which every Debian kernel image provides, so apt would install a kernel image (and
    rebuild an initramfs) on a node that needs only C(wg). A role that needs a recommended
    package names it in its own package list.
options:
  names:
    description: Package names (Debian's), duplicates allowed.
    type: list
    elements: str
    required: true
  lock_timeout:
    description: Seconds to wait for another package manager's lock before failing.
    type: int
    default: 120
  proxy:
    description:
      - An HTTP proxy for apt, such as an apt-cacher-ng in front of the fleet's mirror
        (C(http://apt-cache.example:3142)). Used for this module's C(apt-get update) and
        C(apt-get install) only, as C(-o Acquire::http::Proxy=PROXY); the node's own apt
        configuration is neither read for it nor changed.
      - Playbooks set it from the inventory variable C(podnet_apt_proxy). V(null) uses
        whatever the node's apt configuration says.
    type: str
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: Podnet | install the packages of every concern this node runs
  podnet_packages:
    names: [ethtool, nftables]

- name: Podnet | install through the fleet's apt proxy
  podnet_packages:
    names: [wireguard-tools]
    proxy: http://apt-cache.example:3142
"""

RETURN = r"""
missing:
  description: The packages that were not installed when the module started, sorted.
  returned: always
  type: list
  elements: str
  sample: [nftables]
actions:
  description: The commands run (or, in check mode, that would run), in order.
  returned: always
  type: list
  elements: str
  sample: ["apt-get install nftables"]
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_host import C_LOCALE, finish

NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$")
# What apt-get says when its package lists lack a package, or name versions the mirror no
# longer has: refresh them once, then retry.
NOT_LISTED = ("Unable to locate package", "has no installation candidate", "is not available",
              "Unable to fetch some archives")
PROXY = re.compile(r"^https?://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~/-]*)?$")


def apt_options(lock_timeout, proxy):
    """The -o options every apt-get call of this module takes."""
    options = ["-o", "DPkg::Lock::Timeout=%d" % lock_timeout]
    if proxy:
        options += ["-o", "Acquire::http::Proxy=%s" % proxy]
    return options


def plan_packages(names, dpkg_output):
    """Pure plan: (error or None, sorted missing names). DPKG_OUTPUT is what
    `dpkg-query -W -f '${Package}\\t${db:Status-Abbrev}\\n' NAMES` printed: a package is
    installed when its status reads `ii` (unpacked, half-installed or removed is missing)."""
    wanted = []
    for name in names:
        if not isinstance(name, str) or not NAME.match(name):
            return "names: %r is not a Debian package name" % (name,), []
        if name not in wanted:
            wanted.append(name)
    installed = set()
    for line in dpkg_output.splitlines():
        package, dummy, status = line.partition("\t")
        if status.startswith("ii"):
            installed.add(package.split(":", 1)[0])
    return None, sorted(name for name in wanted if name.split(":", 1)[0] not in installed)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            names=dict(type="list", elements="str", required=True),
            lock_timeout=dict(type="int", default=120),
            proxy=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    names = module.params["names"]
    proxy = module.params["proxy"]
    if proxy and not PROXY.match(proxy):
        module.fail_json(msg="podnet_packages: proxy %r is not an http:// or https:// URL; set "
                             "podnet_apt_proxy to the proxy's URL, e.g. http://apt-cache.example:3142, "
                             "or leave it unset" % proxy, actions=[])
    actions, diffs = [], []
    dpkg_query = module.get_bin_path("dpkg-query", required=True)
    # rc 1 only says some name is unknown to dpkg: that name is missing, not an error.
    rc, out, err = module.run_command(
        [dpkg_query, "-W", "-f", "${Package}\t${db:Status-Abbrev}\n"] + list(names),
        environ_update=C_LOCALE)
    if rc not in (0, 1):
        module.fail_json(msg="podnet_packages: dpkg-query failed: %s" % err.strip(), actions=[])
    error, missing = plan_packages(names, out)
    if error:
        module.fail_json(msg="podnet_packages: " + error, actions=[])
    if missing:
        actions.append("apt-get install " + " ".join(missing))
        diffs.append(dict(before_header="packages missing", after_header="packages missing",
                          before="\n".join(missing) + "\n", after=""))
    if missing and not module.check_mode:
        _install(module, missing, actions)
    finish(module, actions, diffs, missing=missing)


def install_command(apt_get, options, packages):
    """apt-get install of PACKAGES and their dependencies, never their recommends; the
    node's changed configuration files are kept (confold)."""
    return [apt_get, "install", "-y", "-q", "--no-install-recommends"] + options + [
        "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"] + packages


def _install(module, missing, actions):
    apt_get = module.get_bin_path("apt-get", required=True)
    environ = dict(C_LOCALE, DEBIAN_FRONTEND="noninteractive")
    options = apt_options(module.params["lock_timeout"], module.params["proxy"])
    install = install_command(apt_get, options, missing)
    rc, out, err = module.run_command(install, environ_update=environ)
    if rc != 0 and any(text in err + out for text in NOT_LISTED):
        actions.append("apt-get update")
        rc, out, err = module.run_command([apt_get, "update", "-q"] + options, environ_update=environ)
        if rc == 0:
            rc, out, err = module.run_command(install, environ_update=environ)
    if rc != 0:
        module.fail_json(
            msg="podnet_packages: apt-get could not install %s: %s. Check the node's apt "
                "sources (apt-get update on the node shows the cause), then run again."
                % (", ".join(missing), (err or out).strip()[-800:]),
            actions=actions, missing=missing)


if __name__ == "__main__":
    main()
