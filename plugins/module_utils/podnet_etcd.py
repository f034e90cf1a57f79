# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""What podnet's etcd modules share: the etcdctl environment file role podnet_etcd writes
(/etc/etcd/podnet-etcdctl.env) and one etcdctl client that reads it.

`Etcdctl` is a `podnet_host.CommandRunner` (C locale, actions recorded, check mode on
`change`) whose commands also carry the ETCDCTL_* settings of that file and speak etcd's
API v3; `call` runs one etcdctl command and returns its JSON answer.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

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
