# SPDX-License-Identifier: GPL-3.0-or-later
"""execution-environment.yml makes a build context for AWX / automation controller.

`ansible-builder create` (offline) from the collection as users build it; `ansible-builder
build` needs an image registry for the base image, which this machine has not.
"""

import os
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def test_the_execution_environment_carries_the_built_collection_and_netaddr(tmp_path):
    version = yaml.safe_load(open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8"))["version"]
    shutil.copy(os.path.join(ROOT, "execution-environment.yml"), tmp_path)
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path",
                    str(tmp_path / "dist"), ROOT], check=True, capture_output=True)
    done = subprocess.run([os.path.join(BIN, "ansible-builder"), "create", "-f",
                           str(tmp_path / "execution-environment.yml"), "-c", str(tmp_path / "context")],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    build = tmp_path / "context" / "_build"
    assert (tmp_path / "context" / "Dockerfile").is_file()
    # the collection of this version goes into the image, with netaddr for its planner
    assert (build / "collections" / f"podnet-network-{version}.tar.gz").is_file()
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert f"collections/podnet-network-{version}.tar.gz" in [c["name"] for c in galaxy["collections"]]
    assert "netaddr" in (build / "requirements.txt").read_text()
