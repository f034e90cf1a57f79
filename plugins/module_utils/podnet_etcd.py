# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""What podnet's etcd modules share: the etcdctl environment file role podnet_etcd writes
(/etc/etcd/podnet-etcdctl.env) and one etcdctl client that reads it.

`Etcdctl` is a `podnet_host.CommandRunner` (C locale, actions recorded, check mode on
`change`) whose commands also carry the ETCDCTL_* settings of that file and speak etcd's
API v3; `call` runs one etcdctl command and returns its JSON answer. `snapshot_problem`
checks a snapshot file the way `etcdctl snapshot restore` does, without etcd.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import struct

from ansible_collections.podnet.network.plugins.module_utils.podnet_host import C_LOCALE, CommandRunner, read_text

# Written by role podnet_etcd on every member: ETCDCTL_ENDPOINTS, ETCDCTL_CACERT, ...
ENV_FILE = "/etc/etcd/podnet-etcdctl.env"


def parse_env(text):
    """The KEY=value settings of an environment file's TEXT (blank lines, comments and
    lines without "=" are skipped; spaces around key and value and double quotes around
    the value are dropped)."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip().strip('"')
    return env


def read_env(module, path):
    """The settings of the environment file PATH, or None when it does not exist (no
    cluster deployed on this host yet); any other read error fails the module."""
    text = read_text(module, path)
    return None if text is None else parse_env(text)


class Etcdctl(CommandRunner):
    """etcdctl with ENV (the environment file's settings), API v3, in the C locale.

    FAILURE is merged into the failure result of `call` (e.g. what a module read before
    etcdctl failed). Stdin data is passed as is (`etcdctl txn` reads blank lines)."""

    def __init__(self, module, env, actions=None, failure=None):
        CommandRunner.__init__(self, module, actions)
        self.env = dict(C_LOCALE)
        self.env.update(env)
        self.env["ETCDCTL_API"] = "3"
        self.failure = {} if failure is None else failure

    def _run(self, argv, data=None):
        return self.module.run_command(argv, data=data, binary_data=True, environ_update=self.env)

    def raw(self, args):
        """Run `etcdctl ARGS` as is and return (rc, stdout, stderr): for commands that print
        text (`snapshot save`)."""
        return self._run([self.bin("etcdctl")] + list(args))

    def call(self, args, data=None):
        """Run `etcdctl --write-out=json ARGS` (reads and changes alike: the module decides
        what check mode skips) and return the parsed answer ({} when it printed nothing).
        A failure stops the module, naming the command and etcd's answer."""
        rc, out, err = self._run([self.bin("etcdctl"), "--write-out=json"] + list(args), data)
        if rc != 0:
            self.module.fail_json(
                msg="etcdctl %s failed (is a quorum of etcd members up?): %s"
                % (" ".join(args), err.strip() or out.strip()), **self.failure)
        return json.loads(out) if out.strip() else {}


def dropin_setting(text, name):
    """The value of ``Environment="NAME=value"`` (or unquoted) in systemd drop-in TEXT, or None.
    (The role writes one assignment per Environment= line, double-quoted.)"""
    found = None
    for line in (text or "").splitlines():
        line = line.strip()
        if not line.startswith("Environment="):
            continue
        value = line[len("Environment="):].strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        if value.startswith(name + "="):
            found = value[len(name) + 1:]
    return found


def data_dir_change(host, wanted, deployed, wanted_has_data, deployed_has_data):
    """The message that stops a run changing etcd's data directory under a running member,
    or None. WANTED is podnet_etcd_data_dir, DEPLOYED the one podnet's drop-in gives etcd now
    (None: no drop-in); the flags say whether each holds a member (``<dir>/member``).

    Refused: the member's data is in DEPLOYED and WANTED holds none (etcd would start empty
    there and be replaced by a fresh member, one member after the other, the data left
    behind). Allowed: the operator moved the data (WANTED holds it), or DEPLOYED is empty.
    """
    if not deployed or deployed.rstrip("/") == wanted.rstrip("/") or wanted_has_data or not deployed_has_data:
        return None
    return (
        "podnet_etcd: podnet_etcd_data_dir of %(host)s is %(wanted)s, but its etcd member runs on the data "
        "in %(deployed)s. Nothing was changed: an empty %(wanted)s would make it a new member, and a run "
        "would roll every member into an empty directory. To move the data, one member at a time (the "
        "others keep the quorum): on the member run `systemctl stop etcd` and `mv %(deployed)s %(wanted)s`, "
        "set podnet_etcd_data_dir: %(wanted)s for that host only (host_vars), run site.yml, wait for "
        "`etcdctl endpoint health --cluster`, then the next member; set it for the group at the end. "
        "Or keep podnet_etcd_data_dir: %(deployed)s (docs/etcd-pki.md, 'Moving the data directory')."
        % {"host": host, "wanted": wanted, "deployed": deployed})


# An etcd snapshot (`etcdctl snapshot save`) is etcd's bbolt database followed by the SHA-256
# of that database: `etcdctl snapshot restore` takes a file whose size is 32 past a multiple
# of 512 as hashed and refuses it when the hash differs. A bbolt file opens with a meta page:
# a 16-byte page header, then the magic 0xED0CDAED and version 2 (little-endian: etcd's hosts).
SNAPSHOT_HASH_SIZE = 32
BBOLT_MAGIC = 0xED0CDAED
BBOLT_MIN_SIZE = 4 * 1024  # two meta pages, a freelist and a leaf page of the smallest page size (1 KiB)


def snapshot_problem(path):
    """Why the file PATH is not an etcd snapshot `etcdctl snapshot restore` would take (a
    sentence naming PATH), or None when it is one: missing, not a regular file, unreadable,
    too small, no bbolt database, or its SHA-256 trailer differs from the database (truncated
    or damaged). Reads the file once, in blocks."""
    if not os.path.exists(path):
        return "%s does not exist" % path
    if not os.path.isfile(path):
        return "%s is not a regular file" % path
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < BBOLT_MIN_SIZE + SNAPSHOT_HASH_SIZE or size % 512 != SNAPSHOT_HASH_SIZE:
                return ("%s is not an etcd snapshot: %d bytes, while `etcdctl snapshot save` writes a "
                        "database of whole pages and its 32-byte SHA-256 (truncated?)" % (path, size))
            head = handle.read(24)
            magic, version = struct.unpack("<II", head[16:24])
            if magic != BBOLT_MAGIC or version != 2:
                return "%s is not an etcd snapshot: it holds no etcd (bbolt) database" % path
            digest = hashlib.sha256(head)
            left = size - SNAPSHOT_HASH_SIZE - len(head)
            while left > 0:
                block = handle.read(min(left, 1 << 20))
                if not block:
                    return "%s changed while it was read" % path
                digest.update(block)
                left -= len(block)
            trailer = handle.read(SNAPSHOT_HASH_SIZE)
    except (IOError, OSError) as exc:
        return "cannot read %s: %s" % (path, exc)
    if digest.digest() != trailer:
        return ("%s is damaged: the SHA-256 of its database is not the one `etcdctl snapshot save` "
                "wrote at its end" % path)
    return None
