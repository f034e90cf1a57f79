#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print the Debian packages podnet's roles install: each role's default
`podnet_<role>_packages` (roles/*/defaults/main.yml). Test tooling, not part of podnet:
the test-host image build records them for the lab's apt proxy, and the image test keeps
them out of the image.

  role-packages.py            every package, sorted, on one line
  role-packages.py --groups   one line per role that installs any
"""

import glob
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES_VAR = re.compile(r"^podnet_[a-z0-9_]+_packages$")


def role_packages(root=ROOT):
    """{role: [package, ...]} for every role whose defaults name packages."""
    found = {}
    for path in sorted(glob.glob(os.path.join(root, "roles", "*", "defaults", "main.yml"))):
        role = path.split(os.sep)[-3]
        with open(path, encoding="utf-8") as handle:
            defaults = yaml.safe_load(handle) or {}
        for name, value in defaults.items():
            if PACKAGES_VAR.match(name) and value:
                found.setdefault(role, []).extend(value)
    return found


def main(argv):
    groups = role_packages()
    if "--groups" in argv:
        for role in sorted(groups):
            print(" ".join(groups[role]))
    else:
        print(" ".join(sorted({p for packages in groups.values() for p in packages})))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
