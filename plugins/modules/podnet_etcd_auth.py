#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Converge etcd's users and roles to podnet's access plan, then turn etcd auth on."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: podnet_etcd_auth
short_description: Converge etcd auth (users, roles, permissions) and turn it on
description:
  - Runs on an etcd member; talks to etcd with C(etcdctl) (API v3) and the settings of an
    environment file (C(ETCDCTL_*)), whose client certificate must be the registry's (CN
    C(podnet)), which this module gives etcd's C(root) role.
  - Converges the users and roles of O(access) (the output of the C(podnet_registry_access)
    filter) - missing roles, permissions, users (without a password - etcd takes the
    certificate's CN as the user) and role grants are added, permissions and grants that
    O(access) does not declare are revoked, and users and roles whose name starts with
    one of C(owned) that O(access) no longer declares are deleted. Other users and roles are left
    alone.
  - Turns auth on last (C(etcdctl auth enable)), after every user exists, so no client is
    refused while a running cluster moves from no auth to auth.
  - Whether auth is on is learnt by a read made with O(probe_cert) - a member certificate
    whose CN names no user - which etcd serves only while auth is off. Once auth is on, the
    same read proves on every run that a member certificate has no right on the client API.
  - Fails before any change when a user is named after a C(nameless) CN (a member
    certificate would act as that user).
options:
  access:
    description: >-
      C({users: {user: [role]}, roles: {role: [{key, prefix, permission}]}, owned: the prefixes
      of podnet's names (a string or a list), nameless: [CN]}), C(permission) C(read), C(write) or C(readwrite).
    type: dict
    required: true
  probe_cert:
    description: A certificate of the cluster's CA whose CN names no etcd user (a member's server certificate).
    type: path
    required: true
  probe_key:
    description: The key of O(probe_cert).
    type: path
    required: true
  probe_key_name:
    description: The etcd key the probe reads.
    type: str
    default: /coreos.com/network/config
  env_file:
    description: File with the ETCDCTL_* settings.
    type: path
    required: true
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: Registry | each client of etcd may do what it needs, and no more
  podnet_etcd_auth:
    access: >-
      {{ podnet_plan_result
         | podnet.network.podnet_registry_access('/coreos.com/network', groups['podnet_nodes']) }}
    probe_cert: /etc/etcd/podnet-pki/server.crt
    probe_key: /etc/etcd/podnet-pki/server.key
    env_file: /etc/etcd/podnet-etcdctl.env
  delegate_to: etcd1
"""

RETURN = r"""
actions:
  description: The etcdctl commands run (or, in check mode, that would run), in order.
  returned: always
  type: list
  elements: str
enabled_before:
  description: Whether etcd auth was on before this call.
  returned: always
  type: bool
"""

import base64

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_etcd import Etcdctl, read_env

# etcd's Permission.Type (READ is the proto default, so etcdctl's JSON leaves it out).
PERMISSION_TYPES = {0: "read", 1: "write", 2: "readwrite"}


def prefix_end(key):
    """etcd's range end of every key that starts with KEY (etcdctl's --prefix)."""
    raw = bytearray(key.encode())
    while raw and raw[-1] == 0xFF:
        raw.pop()
    if not raw:
        return "\0"
    raw[-1] += 1
    return raw.decode("latin-1")


def wanted_permissions(permissions):
    """{(key, range_end): permission} of O(access)'s permission list."""
    return {(p["key"], prefix_end(p["key"]) if p.get("prefix") else ""): p["permission"] for p in permissions}


def held_permissions(role_get):
    """{(key, range_end): permission} of `etcdctl role get -w json`."""
    held = {}
    for perm in role_get.get("perm") or []:
        key = base64.b64decode(perm.get("key", "")).decode("latin-1")
        end = base64.b64decode(perm.get("range_end", "")).decode("latin-1")
        held[(key, end)] = PERMISSION_TYPES.get(int(perm.get("permType", 0)), "read")
    return held


def _owned(access):
    """The prefixes of podnet's user and role names (one string, or a list of them), as
    str.startswith takes them; None when ACCESS owns no name."""
    owned = access.get("owned") or None
    return tuple(owned) if isinstance(owned, list) else owned


def plan_auth(access, users, roles, enabled):
    """The etcdctl argument lists that converge etcd to ACCESS, in a safe order, and the
    problem that forbids any change (or None).

    USERS is {user: [role]} and ROLES {role: {(key, range_end): permission}} as etcd holds
    them now (roles of other owners may be left out); ENABLED whether auth is on."""
    owned = _owned(access)
    clashes = sorted(set(users) & set(access.get("nameless") or []))
    if clashes:
        return [], ("etcd user %s carries the CN of a member certificate, so that certificate would act "
                    "as the user on the client API. Nothing was changed. Delete the user (`etcdctl user "
                    "delete %s`) or rename it, then re-run." % (", ".join(clashes), clashes[0]))
    steps = []
    for role, permissions in sorted(access["roles"].items()):
        if role not in roles:
            steps.append(["role", "add", role])
        held = roles.get(role, {})
        wanted = wanted_permissions(permissions)
        for (key, end), permission in sorted(wanted.items()):
            if held.get((key, end)) != permission:
                steps.append(["role", "grant-permission", role, permission, key] + ([end] if end else []))
        for key, end in sorted(set(held) - set(wanted)):
            steps.append(["role", "revoke-permission", role, key] + ([end] if end else []))
    for user, granted in sorted(access["users"].items()):
        if user not in users:
            steps.append(["user", "add", user, "--no-password"])
        held = users.get(user, [])
        steps.extend(["user", "grant-role", user, role] for role in sorted(set(granted) - set(held)))
        steps.extend(["user", "revoke-role", user, role] for role in sorted(set(held) - set(granted)))
    if not enabled:
        steps.append(["auth", "enable"])
    if owned:
        steps.extend(["user", "delete", user] for user in sorted(users)
                     if user.startswith(owned) and user not in access["users"])
        steps.extend(["role", "delete", role] for role in sorted(roles)
                     if role.startswith(owned) and role not in access["roles"])
    return steps, None


def read_auth(ctl, access):
    """What plan_auth needs of etcd now: every user and role by name, with the roles of the
    users ACCESS declares and the permissions of the roles podnet owns. (Other owners' users
    and roles are only listed: podnet neither reads nor changes them.)"""
    users = {}
    for user in ctl.call(["user", "list"]).get("users") or []:
        users[user] = (ctl.call(["user", "get", user]).get("roles") or []) if user in access["users"] else []
    roles = {}
    owned = _owned(access)
    for role in ctl.call(["role", "list"]).get("roles") or []:
        if role in access["roles"] or (owned and role.startswith(owned)):
            roles[role] = held_permissions(ctl.call(["role", "get", role]))
        else:
            roles[role] = {}
    return users, roles


def auth_enabled(module, env, params):
    """Whether etcd auth is on: a read with a certificate whose CN names no user succeeds
    only while it is off. (etcdctl refuses a --cert flag beside ETCDCTL_CERT: the probe's
    certificate replaces the environment's.)"""
    probe = dict(env, ETCDCTL_CERT=params["probe_cert"], ETCDCTL_KEY=params["probe_key"])
    rc, out, err = Etcdctl(module, probe).raw(["get", params["probe_key_name"], "--keys-only"])
    if rc == 0:
        return False
    if "permission denied" in err:
        return True
    module.fail_json(msg="etcdctl get with %s failed (is a quorum of etcd members up?): %s"
                         % (params["probe_cert"], err.strip() or out.strip()))


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            access=dict(type="dict", required=True),
            probe_cert=dict(type="path", required=True),
            probe_key=dict(type="path", required=True),
            probe_key_name=dict(type="str", default="/coreos.com/network/config"),
            env_file=dict(type="path", required=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    access = params["access"]
    if not isinstance(access.get("users"), dict) or not isinstance(access.get("roles"), dict):
        module.fail_json(msg="access: needs users and roles (the output of the podnet_registry_access filter)")
    env = read_env(module, params["env_file"])
    if env is None:
        module.fail_json(msg="%s does not exist: is podnet's etcd cluster deployed on this host "
                             "(role podnet_etcd)?" % params["env_file"])
    enabled = auth_enabled(module, env, params)
    ctl = Etcdctl(module, env)
    users, roles = read_auth(ctl, access)
    steps, problem = plan_auth(access, users, roles, enabled)
    if problem:
        module.fail_json(msg="podnet_etcd_auth: " + problem)
    for step in steps:
        ctl.change("etcdctl", step)
    module.exit_json(changed=bool(steps), actions=ctl.actions, enabled_before=enabled)


def main():
    run_module()


if __name__ == "__main__":
    main()
