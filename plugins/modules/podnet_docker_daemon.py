#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker on the pod subnet in one call: podnet's keys in daemon.json (given back on
removal), the docker.service drop-in, and dockerd enabled, running, restarted on change."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_docker_daemon
short_description: Converge dockerd onto the pod subnet (daemon.json, drop-in, service) in one call
description:
  - With O(state=present), builds podnet's daemon.json keys from O(bridge),
    O(bridge_address), O(fixed_cidr), O(mtu) and O(options) (C(bip) of docker0 or C(bridge),
    C(fixed-cidr), C(mtu), C(ip-masq=false), C(iptables=true); the network keys win over
    O(options)), after checking what they mean; a wrong value fails the task, naming the
    role variable (C(podnet_docker_*)), before anything changes.
  - Dual stack, with O(fixed_cidr_v6) (the node's IPv6 pod prefix), also C(ipv6=true) and
    C(fixed-cidr-v6). Docker then gives its bridge the prefix's first address
    (C(<prefix>::1), the plan's C(gateway_ipv6)) unless the bridge already holds an address
    inside the prefix, which it keeps as the gateway (podnet's cbr0). Without it (null) no
    IPv6 key is set, and a docker0 left with an IPv6 address is deleted when dockerd starts.
    C(ip6tables) is not set. In Docker 20.10 it needs C(experimental=true) for the whole
    daemon, and podnet's firewall forwards and masquerades IPv6 pod traffic itself (as it
    does IPv4's with C(ip-masq=false)).
  - It sets those keys in O(path) and keeps every other key of the file as it is (value and
    position). The file is rewritten (atomically, as 2-space indented JSON, root-owned) only
    when a value differs; otherwise its bytes stay untouched.
  - Before it first changes O(path), the module writes a record (O(record_path)) of the
    file's exact original bytes and mode (or that there was no file), of the values the
    file had for podnet's keys and of the values podnet set. It is written only together
    with a change of O(path).
  - A key that podnet set earlier and that is no longer wanted gets its value from before
    podnet back (or is removed if the file had none), unless someone changed it since.
  - It keeps the drop-in O(dropin_path) (docker.service starts after podnet.service, which
    recreates the pod bridge and podnet's firewall at boot) and runs C(systemctl
    daemon-reload) when the drop-in changed. The drop-in only orders the boot, so its change
    restarts nothing.
  - It keeps docker.service enabled and running. When daemon.json changed and dockerd runs,
    it restarts dockerd (with O(restart)) in four steps. Stop, delete a docker0 that holds any address
    but the one wanted (the gateway with docker0, none when Docker attaches to another
    bridge), start, and in the second case delete once more the docker0 Docker recreates
    from its own network store. Every start the module makes is done the same way.
  - With O(state=absent) and no record, daemon.json is neither read nor changed. With a
    record, if O(path) still holds exactly what podnet last wrote, the original bytes and
    mode are restored byte for byte (or the file is deleted when there was none); if it
    was edited since, only podnet's keys that still hold podnet's values get their
    previous value back (or are removed), and every other edit is kept. The record is then
    deleted. The drop-in is deleted (with its directory when that is left empty). dockerd
    is restarted only when daemon.json changed and it runs; its enablement, docker0 and
    the package are left to Docker.
  - Check mode and C(--diff) report exactly what a real run would do (commands in
    RV(actions)); a run that finds everything in place changes nothing.
  - O(path) must hold a JSON object (whitespace only counts as an empty one); anything
    else fails the task and touches nothing.
options:
  state:
    description:
      - V(present) converges Docker onto the pod subnet; V(absent) gives daemon.json back
        as described above.
    type: str
    choices: [present, absent]
    default: present
  bridge:
    description:
      - V(docker0) gives Docker's own bridge O(bridge_address) as C(bip); any other name
        attaches Docker to that existing bridge (C(bridge)), e.g. podnet's V(cbr0).
    type: str
    default: docker0
  bridge_address:
    description:
      - The node's gateway on its pod subnet as host/prefix, e.g. V(10.244.1.1/24).
        Required when O(bridge=docker0).
    type: str
    default: ""
  fixed_cidr:
    description: Part of the pod subnet Docker allocates from (C(fixed-cidr)); V("") for all of it.
    type: str
    default: ""
  fixed_cidr_v6:
    description:
      - The node's IPv6 pod prefix (network/prefix, e.g. V(fd00:10:244:1::/64), at most
        /80 so Docker can derive addresses from the containers' MAC addresses), or null for
        IPv4 only.
    type: str
  mtu:
    description: MTU of container interfaces.
    type: int
    default: 1500
  options:
    description:
      - >-
        Further daemon.json keys podnet sets (and gives back on removal), e.g.
        V({"storage-driver": "vfs"}). The network keys always win.
    type: dict
    default: {}
  restart:
    description:
      - Restart a running dockerd when daemon.json changed. V(false) leaves that to the
        operator (a warning says so); a stopped dockerd is started either way.
    type: bool
    default: true
  path:
    description: Docker's daemon configuration file.
    type: path
    default: /etc/docker/daemon.json
  record_path:
    description:
      - podnet's record of what O(path) held before podnet changed it (JSON, root:root
        0600, its directory created 0755 when missing).
    type: path
    default: /etc/podnet/docker-daemon.orig.json
  dropin_path:
    description: podnet's drop-in of docker.service.
    type: path
    default: /etc/systemd/system/docker.service.d/10-podnet.conf
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: Docker | converge dockerd onto the pod subnet
  podnet_docker_daemon:
    bridge: docker0
    bridge_address: 10.244.1.1/24
    mtu: 1450
    options:
      storage-driver: vfs

- name: Docker | attach dockerd to podnet's cbr0, upper half of the subnet
  podnet_docker_daemon:
    bridge: cbr0
    fixed_cidr: 10.244.1.128/25
    mtu: 1450

- name: Docker | dual stack on docker0
  podnet_docker_daemon:
    bridge: docker0
    bridge_address: 10.244.1.1/24
    fixed_cidr_v6: "fd00:10:244:1::/64"
    mtu: 1450

- name: Docker | give daemon.json back, remove podnet's drop-in
  podnet_docker_daemon:
    state: absent
"""

RETURN = r"""
action:
  description:
    - What happened to O(path) (or would happen, in check mode). V(none), V(merge) (podnet's
      keys written), V(restore) (original bytes back), V(delete) (there was no file before
      podnet), V(unmerge) (podnet's keys taken out of an edited file).
  returned: always
  type: str
  sample: merge
keys:
  description: The keys of O(path) whose value changes (or would change), sorted.
  returned: always
  type: list
  elements: str
  sample: ["bip", "ip-masq", "mtu"]
restarted:
  description: Whether dockerd was (or, in check mode, would be) restarted or started.
  returned: always
  type: bool
actions:
  description: Every change made (or, in check mode, that would be made), as commands.
  returned: always
  type: list
  elements: str
  sample: ["write /etc/docker/daemon.json", "systemctl stop docker.service",
           "ip link delete docker0", "systemctl start docker.service"]
"""

import base64
import copy
import hashlib
import ipaddress
import json
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_host import (
    CommandRunner, daemon_reload, finish, managed_header, persist_file, read_bytes, read_unit,
    remove_emptied_directory)

RECORD_VERSION = 1
NEW_FILE_MODE = 0o644
UNIT = "docker.service"
OWN_BRIDGE = "docker0"
LINK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
# systemctl show's ActiveState of a dockerd that runs (or is on its way to).
RUNNING = ("active", "activating", "reloading")

DROPIN = """\
# podnet (role podnet_docker): dockerd puts containers on the pod bridge, which
# podnet.service creates again at boot together with podnet's firewall, so dockerd
# starts after that unit. Ordering only: it changes nothing while dockerd runs.
[Unit]
After=podnet.service
"""


class DaemonJsonError(ValueError):
    """daemon.json (or podnet's record) cannot be read as podnet needs it."""


class DockerInputError(ValueError):
    """A role variable whose value cannot work; the message names it and the fix."""


# --- pure functions: no host access, unit-tested in tests/unit/test_docker_daemon.py ------
def ipv6_prefix(fixed_cidr_v6):
    """FIXED_CIDR_V6 (podnet_docker_fixed_cidr_v6) as an IPv6Network, None when unset, or
    DockerInputError."""
    if fixed_cidr_v6 is None or fixed_cidr_v6 == "":
        return None
    try:
        network = ipaddress.IPv6Network(str(fixed_cidr_v6))
    except ValueError:
        network = None
    if network is None or "/" not in str(fixed_cidr_v6):
        raise DockerInputError(
            "podnet_docker_fixed_cidr_v6=%r is not an IPv6 network address with its prefix: pass "
            "the node's IPv6 pod prefix, e.g. fd00:10:244:1::/64 (the plan's pod_cidr_ipv6), or "
            "null for IPv4 only" % (fixed_cidr_v6,))
    if network.prefixlen > 80:
        raise DockerInputError(
            "podnet_docker_fixed_cidr_v6=%s is longer than /80: pass a prefix of /80 or shorter "
            "(Docker derives each container's IPv6 address from its MAC address, 48 bits), e.g. "
            "the node's /64" % fixed_cidr_v6)
    return network


def daemon_settings(bridge, bridge_address, fixed_cidr, mtu, options, fixed_cidr_v6=None):
    """podnet's keys of daemon.json, from the role's variables, or DockerInputError.
    FIXED_CIDR_V6 (dual stack) adds ipv6 and fixed-cidr-v6; None leaves both out."""
    if not LINK_NAME.match(bridge or ""):
        raise DockerInputError(
            "podnet_docker_bridge=%r is not a link name (1 to 15 letters, digits, '_', '.', '-'): "
            "pass docker0 (Docker's own bridge) or podnet's bridge, e.g. cbr0" % bridge)
    gateway = None
    if bridge_address:
        try:
            gateway = ipaddress.IPv4Interface(bridge_address)
        except ValueError:
            gateway = None
        if gateway is None or "/" not in bridge_address or (
                gateway.network.prefixlen < 31
                and gateway.ip in (gateway.network.network_address, gateway.network.broadcast_address)):
            raise DockerInputError(
                "podnet_docker_bridge_address=%r is not an IPv4 host address with its prefix: "
                "pass the node's gateway on its pod subnet, e.g. 10.244.1.1/24 (the plan's "
                "bridge_address)" % bridge_address)
    elif bridge == OWN_BRIDGE:
        raise DockerInputError(
            "podnet_docker_bridge_address is empty, but podnet_docker_bridge=docker0 needs it "
            "as Docker's bip: pass the node's gateway on its pod subnet, e.g. 10.244.1.1/24 "
            "(the plan's bridge_address)")
    if fixed_cidr:
        try:
            network = ipaddress.IPv4Network(fixed_cidr)
        except ValueError:
            network = None
        if network is None or "/" not in fixed_cidr:
            raise DockerInputError(
                "podnet_docker_fixed_cidr=%r is not an IPv4 network address with its prefix: "
                "pass a network inside the pod subnet, e.g. 10.244.1.128/25, or \"\" for all "
                "of it" % fixed_cidr)
        if gateway is not None and not network.subnet_of(gateway.network):
            raise DockerInputError(
                "podnet_docker_fixed_cidr=%s lies outside the pod subnet %s of "
                "podnet_docker_bridge_address=%s: pass a network inside it, or \"\""
                % (fixed_cidr, gateway.network, bridge_address))
    prefix_v6 = ipv6_prefix(fixed_cidr_v6)
    if not 68 <= mtu <= 65535:
        raise DockerInputError(
            "podnet_docker_mtu=%s is not an MTU Linux accepts: pass 68 to 65535 (the plan's mtu)"
            % mtu)
    settings = copy.deepcopy(dict(options))
    for key in ("bip", "bridge", "fixed-cidr"):
        settings.pop(key, None)
    if bridge == OWN_BRIDGE:
        settings["bip"] = bridge_address
    else:
        settings["bridge"] = bridge
    if fixed_cidr:
        settings["fixed-cidr"] = fixed_cidr
    settings.update({"mtu": mtu, "ip-masq": False, "iptables": True})
    if prefix_v6 is not None:
        settings.update({"ipv6": True, "fixed-cidr-v6": str(prefix_v6)})
    return settings


def dropin_content():
    return managed_header("podnet_docker_daemon") + DROPIN


def service_plan(state, unit, config_changed, restart):
    """What docker.service needs, from systemctl's view of it (UNIT: read_unit's dict).

    Returns (steps, warning): steps among "enable", "stop", "start" (in a podnet start
    docker0 is made right around it) and "restart" (absent: dockerd runs on the file given
    back); warning: what the operator should know, or None."""
    running = unit.get("ActiveState") in RUNNING
    if state == "absent":
        return (["restart"] if config_changed and running and restart else []), None
    steps, warning = [], None
    if unit.get("UnitFileState") in ("disabled", "enabled-runtime") or \
            unit.get("LoadState") == "not-found":
        steps.append("enable")
    if not running:
        steps.append("start")
    elif config_changed and restart:
        steps += ["stop", "start"]
    elif config_changed:
        warning = ("daemon.json changed but dockerd keeps its old settings until it restarts "
                   "(restart=false): restart docker.service")
    return steps, warning


def unit_refusal(unit):
    """Why docker.service cannot be kept running (checked before any change), or None."""
    if unit.get("UnitFileState") == "masked" or unit.get("LoadState") == "masked":
        return ("docker.service is masked on this host, so podnet_docker_state=present cannot "
                "keep dockerd running: unmask it (systemctl unmask docker.service), or leave "
                "Docker out of podnet on this node")
    if unit.get("LoadState") == "not-found":
        return ("docker.service is not installed on this host: install Docker first (role "
                "podnet_docker installs podnet_docker_packages, by default [docker.io]), or "
                "leave Docker out of podnet on this node")
    return None


def stale_docker0(addr_show, wanted, wanted_v6=None):
    """Whether docker0 (from `ip -json addr show dev docker0`; None: no such link) holds
    any IPv4 address but WANTED (the host/prefix it must hold; "" for no address), or a
    global IPv6 address outside WANTED_V6 (its IPv6 prefix, fixed-cidr-v6; None: none may
    be there). Link-local ones (Docker's fe80::1) do not count."""
    if not addr_show:
        return False
    infos = [info for link in addr_show for info in link.get("addr_info", [])]
    have = sorted("%s/%s" % (info["local"], info["prefixlen"])
                  for info in infos if info.get("family", "inet") == "inet")
    prefix = None if not wanted_v6 else ipaddress.IPv6Network(wanted_v6)
    for info in infos:
        if info.get("family") == "inet6" and info.get("scope", "global") == "global":
            address = ipaddress.IPv6Address(info["local"])
            if prefix is None or address not in prefix or info.get("prefixlen") != prefix.prefixlen:
                return True
    return have != ([wanted] if wanted else [])


def canonical(value):
    """A form in which two JSON values compare equal only when they are equal JSON
    (1 and true, 1 and 1.0 differ)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def same(left, right):
    return canonical(left) == canonical(right)


def parse(content):
    """The JSON object in CONTENT (bytes); {} for no file or whitespace only."""
    if content is None or not content.strip():
        return {}
    try:
        document = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DaemonJsonError("is not valid UTF-8 JSON (%s)" % exc)
    if not isinstance(document, dict):
        raise DaemonJsonError("holds a JSON %s, not an object" % type(document).__name__)
    return document


def render(document):
    """The bytes podnet writes: 2-space indented JSON, keys in the document's order."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def sha256(content):
    return hashlib.sha256(content).hexdigest()


def encode_original(content):
    return None if content is None else base64.b64encode(content).decode("ascii")


def decode_original(record):
    original = record.get("original")
    return None if original is None else base64.b64decode(original.encode("ascii"))


def _give_back(document, owned, previous):
    """Give every key podnet set (OWNED) that still holds podnet's value its value from
    before podnet (PREVIOUS), or remove it when it had none. Edits are kept."""
    for key in sorted(owned):
        if key in document and same(document[key], owned[key]):
            if key in previous:
                document[key] = copy.deepcopy(previous[key])
            else:
                del document[key]


def _changed_keys(before, after):
    return sorted(key for key in set(before) | set(after)
                  if key not in before or key not in after or not same(before[key], after[key]))


def plan_present(content, mode, record, settings):
    """What daemon.json and podnet's record must become so that daemon.json holds SETTINGS.

    CONTENT and MODE: the file's bytes and permission bits (None: no file). RECORD: podnet's
    record (None: none yet). Returns a dict: content, mode (None: no file), record (None:
    no record), action, keys. Nothing changes when the file already holds the settings.
    """
    current = parse(content)
    document = copy.deepcopy(current)
    owned = dict(record["settings"]) if record else {}
    previous = dict(record["previous"]) if record else {}

    # keys podnet set before and no longer sets: back to what the file had before podnet
    dropped = {key: value for key, value in owned.items() if key not in settings}
    _give_back(document, dropped, previous)
    for key in dropped:
        previous.pop(key, None)

    for key in sorted(settings):
        if key not in owned and key in document:
            previous[key] = copy.deepcopy(document[key])
        document[key] = copy.deepcopy(settings[key])

    keys = _changed_keys(current, document)
    if not keys:
        return dict(content=content, mode=mode, record=record, action="none", keys=[])
    new_content = render(document)
    if record:
        new_record = dict(record)
    else:
        new_record = dict(
            version=RECORD_VERSION,
            original=encode_original(content),
            original_mode=None if content is None else "%04o" % mode,
        )
    new_record.update(previous=previous, settings=copy.deepcopy(dict(settings)),
                      written_sha256=sha256(new_content))
    return dict(content=new_content, mode=NEW_FILE_MODE if content is None else mode,
                record=new_record, action="merge", keys=keys)


def plan_absent(content, mode, record):
    """What daemon.json must become when podnet lets go of it (arguments as plan_present).

    No record: podnet never changed the file, so nothing changes. The record always goes.
    """
    if record is None:
        return dict(content=content, mode=mode, record=None, action="none", keys=[])
    original = decode_original(record)
    original_mode = None if original is None else int(record["original_mode"], 8)
    before = parse(content)

    def back_to_original():
        action = "delete" if original is None else "restore"
        if content == original and mode == original_mode:
            action = "none"
        return dict(content=original, mode=original_mode, record=None, action=action,
                    keys=_changed_keys(before, parse(original)))

    if content is not None and sha256(content) == record.get("written_sha256"):
        return back_to_original()
    if content is None:
        # deleted by someone since podnet wrote it: that edit is kept as well
        return dict(content=None, mode=None, record=None, action="none", keys=[])

    document = copy.deepcopy(before)
    _give_back(document, record["settings"], record["previous"])
    if original is not None and same(document, parse(original)):
        return back_to_original()
    if original is None and not document:
        return back_to_original()
    if same(document, before):
        return dict(content=content, mode=mode, record=None, action="none", keys=[])
    return dict(content=render(document), mode=mode, record=None, action="unmerge",
                keys=_changed_keys(before, document))


def render_record(record):
    return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8")


def load_record(content):
    if content is None:
        return None
    try:
        record = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DaemonJsonError("is not podnet's JSON record (%s)" % exc)
    if not isinstance(record, dict) or record.get("version") != RECORD_VERSION or not all(
            isinstance(record.get(key), dict) for key in ("previous", "settings")):
        raise DaemonJsonError("is not a version %d podnet record" % RECORD_VERSION)
    return record


# --- reading and applying -----------------------------------------------------------------
def text(content):
    return None if content is None else content.decode("utf-8")


def docker0_addresses(runner):
    return runner.read("ip", ["addr", "show", "dev", OWN_BRIDGE], json_flag="-json")


def make_docker0_right(module, runner, wanted, wanted_v6):
    """Delete docker0 when it holds anything but WANTED (and IPv6 addresses outside
    WANTED_V6); dockerd is stopped or has just recreated it from its own store. Check mode
    predicts from docker0 as it is now."""
    if stale_docker0(docker0_addresses(runner), wanted, wanted_v6):
        runner.change("ip", ["link", "delete", OWN_BRIDGE])


def start_dockerd(module, runner, settings):
    """Start dockerd with docker0 made right: before (a docker0 on another subnet stops
    Docker from taking the new one) and, when Docker attaches to another bridge, after
    (Docker first recreates the docker0 of its old settings from its network store)."""
    wanted = settings.get("bip", "")
    # Docker's docker0 only: attached to another bridge, docker0 holds no address at all.
    wanted_v6 = settings.get("fixed-cidr-v6") if "bip" in settings else None
    make_docker0_right(module, runner, wanted, wanted_v6)
    runner.change("systemctl", ["start", UNIT])
    if "bridge" in settings and not module.check_mode:
        make_docker0_right(module, runner, wanted, wanted_v6)


def persist_daemon_json(module, params, content, mode, record, record_content, plan, actions, diffs):
    """Write what PLAN says: the record first (what was there is saved before daemon.json
    changes), then daemon.json, then the record goes when the plan drops it. True when
    daemon.json itself changed."""
    path, record_path = params["path"], params["record_path"]
    new_record = None if plan["record"] is None else render_record(plan["record"])
    file_changes = plan["content"] != content or plan["mode"] != mode
    record_changes = (plan["record"] is None) != (record is None) or (
        record is not None and not same(plan["record"], record))
    if record_changes and new_record is not None:
        persist_file(module, record_path, text(new_record), actions, diffs, mode="0600")
    if file_changes:
        file_mode = None if plan["mode"] is None else "%04o" % plan["mode"]
        persist_file(module, path, text(plan["content"]), actions, diffs, mode=file_mode)
    if record_changes and new_record is None and record_content is not None:
        persist_file(module, record_path, None, actions, diffs)
    return file_changes


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            bridge=dict(type="str", default=OWN_BRIDGE),
            bridge_address=dict(type="str", default=""),
            fixed_cidr=dict(type="str", default=""),
            fixed_cidr_v6=dict(type="str"),
            mtu=dict(type="int", default=1500),
            options=dict(type="dict", default={}),
            restart=dict(type="bool", default=True),
            path=dict(type="path", default="/etc/docker/daemon.json"),
            record_path=dict(type="path", default="/etc/podnet/docker-daemon.orig.json"),
            dropin_path=dict(type="path", default="/etc/systemd/system/docker.service.d/10-podnet.conf"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    state = params["state"]
    path, record_path = params["path"], params["record_path"]
    actions, diffs = [], []
    runner = CommandRunner(module, actions)
    result = dict(action="none", keys=[], restarted=False)

    # read, and check what the inputs mean, before anything changes
    settings = None
    if state == "present":
        try:
            settings = daemon_settings(params["bridge"], params["bridge_address"],
                                       params["fixed_cidr"], params["mtu"], params["options"],
                                       params["fixed_cidr_v6"])
        except DockerInputError as exc:
            module.fail_json(msg="%s (nothing was changed)" % exc)
    record_content, dummy = read_bytes(module, record_path)
    try:
        record = load_record(record_content)
    except DaemonJsonError as exc:
        module.fail_json(msg="%s %s; nothing was changed" % (record_path, exc))

    content = mode = None
    plan = dict(content=None, mode=None, record=None, action="none", keys=[])
    if state == "present" or record is not None:
        # without a record podnet never changed daemon.json here: it is not even read
        content, mode = read_bytes(module, path)
        try:
            if state == "present":
                plan = plan_present(content, mode, record, settings)
            else:
                plan = plan_absent(content, mode, record)
        except DaemonJsonError as exc:
            module.fail_json(msg="%s %s; fix or remove it, then run again (nothing was changed)"
                             % (path, exc))
    result.update(action=plan["action"], keys=plan["keys"])

    config_changed = state == "present" or record is not None
    if config_changed:
        config_changed = plan["content"] != content or plan["mode"] != mode
    unit = {}
    if state == "present" or config_changed:
        unit = read_unit(runner, UNIT)
    if state == "present":
        refusal = unit_refusal(unit)
        if refusal and not (module.check_mode and unit.get("LoadState") == "not-found"):
            module.fail_json(msg=refusal + " (nothing was changed)")
        if refusal:
            module.warn("docker.service is not installed yet; in a real run the install task "
                        "installs it before this one, which then enables and starts it")
    steps, warning = service_plan(state, unit, config_changed, params["restart"])

    # apply: files first, then the service
    if state == "present" or record is not None:
        persist_daemon_json(module, params, content, mode, record, record_content, plan,
                            actions, diffs)
    dropin = dropin_content() if state == "present" else None
    if persist_file(module, params["dropin_path"], dropin, actions, diffs):
        daemon_reload(module, actions)
    if state == "absent":
        remove_emptied_directory(module, os.path.dirname(params["dropin_path"]), actions,
                                 {params["dropin_path"]})

    if "enable" in steps:
        runner.change("systemctl", ["enable", UNIT])
    if "stop" in steps:
        runner.change("systemctl", ["stop", UNIT])
    if "start" in steps:
        start_dockerd(module, runner, settings)
    if "restart" in steps:
        runner.change("systemctl", ["restart", UNIT])
    result["restarted"] = "start" in steps or "restart" in steps
    if warning:
        module.warn(warning)
    finish(module, actions, diffs, **result)


def main():
    run_module()


if __name__ == "__main__":
    main()
