# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The WireGuard concern of podnet: the device (flannel's layout), its peers, the routes over
it, the peers file and the boot step.

Read -> pure plan -> apply, shared by the module podnet_wireguard (which only declares its
arguments and calls `converge`) and the node agent (podnet_agent), which runs the same
`converge` in check mode to find drift and, when repair is on, for real. Standard library
only: the agent imports this file on a node without Ansible.

Secrets stay on the node: the private key is read from O(key_path) and handed to `wg` as
that path; with O(preshared_key_from_node) the preshared key is read from the peers file
the last run persisted (root 0600), so the agent's slice holds neither.

Dual stack (issue 24): the device may hold an IPv6 address too (O(config.address_ipv6),
its own disable_ipv6 switched off, added nodad), peers' allowed IPs may hold IPv6 prefixes
(routed over the device with `ip -6 route`, metric 1024) and an endpoint may be
"[v6]:port". An IPv4-only config reads IPv6 state too (a podnet IPv6 route or address left
by an earlier dual-stack run is removed) but runs and writes exactly what it did before."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import time

from ansible_collections.podnet.network.plugins.module_utils.podnet_concern_routes import (
    DECLARED_METRIC, IPV6_PROC, family_of)
from ansible_collections.podnet.network.plugins.module_utils.podnet_host import (
    OWNER_MARK, CommandRunner, boot_step, check_route_protocol, disable_ipv6_path, finish,
    live_diff, persist_file, read_disable_ipv6, read_ipv6_addresses, read_named_protocols,
    read_text, remove_emptied_directory, write_proc)

CONF_DIR = "/etc/podnet/wireguard"
BOOT_ORDER = 35
UNIT_PREFIX = "podnet-wireguard-go-"
NO_KEY = "(none)"
# What a device name or a hostname may hold: nothing a shell or a config line reads as syntax.
NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-"


def unit_name(device):
    return UNIT_PREFIX + device + ".service"


def norm_prefix(text):
    """An allowed IP as `wg show dump` and `ip -json route` print it (IPv6 compressed)."""
    return str(ipaddress.ip_network(text, strict=True))


def norm_endpoint(text):
    """An endpoint "A.B.C.D:port" or "[v6]:port" as `wg show dump` prints it (IPv6
    compressed), or None when it is neither."""
    text = str(text or "")
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 1 <= int(port) <= 65535 or str(int(port)) != port:
        return None
    try:
        # No zone (fe80::1%eth0): the plan's underlay addresses are global ones.
        if host.startswith("[") and host.endswith("]") and "%" not in host:
            return "[%s]:%s" % (ipaddress.IPv6Address(host[1:-1]), port)
        return "%s:%s" % (ipaddress.IPv4Address(host), port)
    except ValueError:
        return None


def route_args(verb, dest):
    """`ip route VERB DEST` (IPv4, as before) or `ip -6 route VERB DEST`."""
    return (["route"] if family_of(dest) == 4 else ["-6", "route"]) + [verb, dest]


# ---------------------------------------------------------------- read (live state)

def parse_dump(text):
    """`wg show DEV dump` -> {private_key, public_key, listen_port, peers {key: {...}}}.
    The private key and preshared keys stay in memory: the caller never returns them."""
    lines = [line.split("\t") for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return None
    head = lines[0]
    result = {"private_key": head[0], "public_key": head[1], "listen_port": int(head[2]), "peers": {}}
    for fields in lines[1:]:
        allowed = [] if fields[3] == "(none)" else sorted(
            str(ipaddress.ip_network(ip, strict=False)) for ip in fields[3].split(","))
        result["peers"][fields[0]] = {
            "preshared_key": fields[1],
            "endpoint": None if fields[2] == "(none)" else (norm_endpoint(fields[2]) or fields[2]),
            "allowed_ips": allowed,
            "persistent_keepalive": 0 if fields[7] == "off" else int(fields[7]),
        }
    return result


def parse_link(links):
    """`ip -d -j link show dev DEV` -> {kind, alias, mtu, up} or None."""
    if not links:
        return None
    link = links[0]
    kind = (link.get("linkinfo") or {}).get("info_kind")
    return {"kind": kind, "alias": link.get("ifalias"), "mtu": link.get("mtu"),
            "up": "UP" in (link.get("flags") or [])}


def parse_addresses(addrs):
    out = []
    for entry in addrs or []:
        for info in entry.get("addr_info") or []:
            if info.get("family") == "inet":
                out.append("%s/%s" % (info["local"], info["prefixlen"]))
    return sorted(out)


def parse_routes(routes, protocol, other, dests, family_=4):
    """{dest: {dev, protocol}} of the routes of PROTOCOL, and of any route to DESTS, at the
    metric a route gets when none is given (0 for IPv4, 1024 for IPv6: FAMILY_ says which
    `ip -json -Numeric -4|-6 route show table main` printed ROUTES)."""
    out = {}
    metric = DECLARED_METRIC[family_]
    for route in routes or []:
        dst = route.get("dst")
        if (not dst or route.get("table", "main") != "main" or route.get("metric", 0) != metric
                or (family_ == 6 and dst == "default")):
            continue
        if "/" not in dst:
            dst += "/32" if family_ == 4 else "/128"
        if family_ == 6:
            dst = norm_prefix(dst)
        proto = str(route.get("protocol"))
        if proto == str(protocol) or dst in dests:
            out[dst] = {"dev": route.get("dev"), "protocol": proto}
    return out


# ---------------------------------------------------------------- plan (pure)

def want_peers(config, psk):
    """(wanted {public_key: {hostname, endpoint, allowed_ips, keepalive, psk}}, pending)."""
    wanted, pending = {}, []
    for peer in config.get("peers") or []:
        key = peer.get("public_key")
        if not key:
            pending.append(peer["hostname"])
            continue
        wanted[key] = {"hostname": peer["hostname"],
                       "endpoint": norm_endpoint(peer["endpoint"]) or peer["endpoint"],
                       "allowed_ips": sorted(norm_prefix(ip) for ip in peer["allowed_ips"]),
                       "persistent_keepalive": int(config.get("persistent_keepalive") or 0),
                       "preshared_key": psk or NO_KEY}
    return wanted, sorted(pending)


def plan(live, want, params):
    """Pure: live state + wanted state -> {"error", "commands" [(tool, args, shown, data)]}.

    LIVE: {link, addresses, wg (parse_dump or None), routes (both families), private_key
    (the key file's, or None), unit_active} and, optional, addresses_ipv6 (global ones) and
    disable_ipv6 (the device's switch, '0'/'1'/None). WANT: None (remove) or {device, port,
    address, mtu, peers (want_peers), implementation} and, optional, address_ipv6. Commands
    run in order; ("wait", [device]) waits for a userspace device to come up; ("sysctl",
    [path, value]) writes a /proc/sys file.
    """
    dev = params["device"]
    link = live["link"]
    cmds = []
    owned = link is not None and link.get("alias") == OWNER_MARK
    if link is not None and not owned and want is not None:
        return {"error": "podnet_wireguard_config.device: a link named %s exists and podnet did "
                         "not create it (no alias %s); podnet leaves it alone. Delete or rename it, "
                         "or give podnet another device (podnet_plan_wireguard_device)" % (dev, OWNER_MARK),
                "commands": []}
    proto = str(params["protocol"])

    if want is None:
        # A foreign link of that name is left alone; wireguard-go's device goes with its unit.
        if live.get("unit_active"):
            cmds.append(("systemctl", ["stop", unit_name(dev)], None, None))
        elif owned:
            cmds.append(("ip", ["link", "del", "dev", dev], None, None))
        for dest, route in sorted(live["routes"].items()):
            if route["protocol"] == proto and route["dev"] != dev:
                cmds.append(("ip", route_args("del", dest) + ["proto", proto], None, None))
        return {"error": None, "commands": cmds}

    dests = sorted(ip for peer in want["peers"].values() for ip in peer["allowed_ips"])
    conflicts = [d for d in dests if d in live["routes"] and live["routes"][d]["protocol"]
                 not in (proto, str(params["routes_protocol"]))]
    if conflicts:
        return {"error": "routes to %s exist with a protocol podnet does not own; podnet never "
                         "overwrites them: remove them, or take those hosts out of the pod network"
                         % ", ".join("%s (protocol %s)" % (d, live["routes"][d]["protocol"])
                                     for d in conflicts), "commands": []}
    kind = "wireguard" if want["implementation"] == "kernel" else "tun"
    fresh = link is None or link.get("kind") != kind
    if link is not None and fresh:
        # Switching implementation: the old device goes, the new one starts clean.
        if live.get("unit_active"):
            cmds.append(("systemctl", ["stop", unit_name(dev)], None, None))
        else:
            cmds.append(("ip", ["link", "del", "dev", dev], None, None))
    if fresh:
        if want["implementation"] == "kernel":
            cmds.append(("ip", ["link", "add", "dev", dev, "type", "wireguard"], None, None))
        else:
            cmds.append(("start-userspace", [dev], None, None))
            cmds.append(("wait", [dev], None, None))
        cmds.append(("ip", ["link", "set", "dev", dev, "alias", OWNER_MARK], None, None))
    wg = None if fresh else live["wg"]
    wg = wg or {"private_key": NO_KEY, "public_key": NO_KEY, "listen_port": 0, "peers": {}}

    settings = []
    if wg["listen_port"] != want["port"]:
        settings += ["listen-port", str(want["port"])]
    if live.get("private_key") and wg["private_key"] != live["private_key"]:
        settings += ["private-key", params["key_path"]]
    if settings:
        cmds.append(("wg", ["set", dev] + settings, None, None))
    for key in sorted(wg["peers"]):
        if key not in want["peers"]:
            cmds.append(("wg", ["set", dev, "peer", key, "remove"], None, None))
    for key, peer in sorted(want["peers"].items(), key=lambda item: item[1]["hostname"]):
        have = wg["peers"].get(key)
        args = []
        if have is None or have["endpoint"] != peer["endpoint"]:
            args += ["endpoint", peer["endpoint"]]
        if have is None or have["allowed_ips"] != peer["allowed_ips"]:
            args += ["allowed-ips", ",".join(peer["allowed_ips"])]
        if have is None or have["persistent_keepalive"] != peer["persistent_keepalive"]:
            args += ["persistent-keepalive", str(peer["persistent_keepalive"] or "off")]
        data = None
        if (have is None and peer["preshared_key"] != NO_KEY) or (
                have is not None and have["preshared_key"] != peer["preshared_key"]):
            args += ["preshared-key", "/dev/stdin" if peer["preshared_key"] != NO_KEY else "/dev/null"]
            data = peer["preshared_key"] if peer["preshared_key"] != NO_KEY else None
        if args:
            cmds.append(("wg", ["set", dev, "peer", key] + args, None, data))

    addresses = [] if fresh else live["addresses"]
    if want["address"] not in addresses:
        cmds.append(("ip", ["addr", "replace", want["address"], "dev", dev], None, None))
    for address in addresses:
        if address != want["address"]:
            cmds.append(("ip", ["addr", "del", address, "dev", dev], None, None))
    address6 = want.get("address_ipv6")
    if address6:
        # A new link takes the host's default (1 in a container Docker started with IPv6
        # off by default): IPv6 is switched on on the device itself, as the bridge does.
        if fresh or live.get("disable_ipv6") != "0":
            cmds.append(("sysctl", [disable_ipv6_path(dev), "0"], None, None))
    addresses6 = [] if fresh else live.get("addresses_ipv6") or []
    if address6 and address6 not in addresses6:
        # nodad: the prefix is this node's, the address is usable at once.
        cmds.append(("ip", ["-6", "addr", "replace", address6, "dev", dev, "nodad"], None, None))
    for address in sorted(addresses6):
        if address != address6:
            cmds.append(("ip", ["-6", "addr", "del", address, "dev", dev], None, None))
    if fresh or link.get("mtu") != want["mtu"]:
        cmds.append(("ip", ["link", "set", "dev", dev, "mtu", str(want["mtu"])], None, None))
    if fresh or not link.get("up"):
        cmds.append(("ip", ["link", "set", "dev", dev, "up"], None, None))
    for dest in dests:
        route = live["routes"].get(dest)
        if fresh or route is None or route["dev"] != dev or route["protocol"] != proto:
            cmds.append(("ip", route_args("replace", dest) + ["dev", dev, "proto", proto], None, None))
    for dest, route in sorted(live["routes"].items()):
        if route["protocol"] == proto and dest not in dests and not (fresh and route["dev"] == dev):
            cmds.append(("ip", route_args("del", dest) + ["proto", proto], None, None))
    return {"error": None, "commands": cmds}


def conf_content(want):
    """The peers for `wg setconf` at boot (no private key: the boot step sets it after)."""
    lines = ["[Interface]", "ListenPort = %d" % want["port"]]
    for key, peer in sorted(want["peers"].items(), key=lambda item: item[1]["hostname"]):
        lines += ["", "# %s" % peer["hostname"], "[Peer]", "PublicKey = %s" % key]
        if peer["preshared_key"] != NO_KEY:
            lines.append("PresharedKey = %s" % peer["preshared_key"])
        lines += ["Endpoint = %s" % peer["endpoint"],
                  "AllowedIPs = %s" % ", ".join(peer["allowed_ips"])]
        if peer["persistent_keepalive"]:
            lines.append("PersistentKeepalive = %d" % peer["persistent_keepalive"])
    return "\n".join(lines) + "\n"


def boot_script(want, params, conf_path):
    """The /bin/sh -e step that brings the device back at boot, idempotently."""
    dev = want["device"]
    proto = str(params["protocol"])
    if want["implementation"] == "kernel":
        create = "  ip link add dev %s type wireguard\n" % dev
    else:
        create = (
            "  if [ -d /run/systemd/system ]; then\n"
            "    systemd-run --collect --unit=%s --description='podnet WireGuard %s (wireguard-go)' "
            "wireguard-go -f %s\n"
            "  else\n    wireguard-go %s\n  fi\n"
            "  i=0\n"
            "  until ip link show dev %s >/dev/null 2>&1 && [ -S /var/run/wireguard/%s.sock ]; do\n"
            "    i=$((i + 1)); [ $i -le 100 ] || { echo \"podnet: %s did not come up\" >&2; exit 1; }\n"
            "    sleep 0.1\n  done\n" % (unit_name(dev), dev, dev, dev, dev, dev, dev))
    lines = [
        "# WireGuard device %s (%s), its peers and the routes over it." % (dev, want["implementation"]),
        "if ! ip link show dev %s >/dev/null 2>&1; then" % dev,
        create.rstrip("\n"),
        "fi",
        "ip link set dev %s alias %s" % (dev, OWNER_MARK),
        # setconf replaces the peers and clears the private key: the key is set after it.
        "wg setconf %s %s" % (dev, conf_path),
        "wg set %s private-key %s" % (dev, params["key_path"]),
        "ip addr replace %s dev %s" % (want["address"], dev),
    ]
    if want.get("address_ipv6"):
        lines += ["echo 0 > %s" % disable_ipv6_path(dev),
                  "ip -6 addr replace %s dev %s nodad" % (want["address_ipv6"], dev)]
    lines.append("ip link set dev %s mtu %d up" % (dev, want["mtu"]))
    for dest in sorted(ip for peer in want["peers"].values() for ip in peer["allowed_ips"]):
        lines.append("ip %s %s dev %s proto %s" % (" ".join(route_args("replace", dest)[:-1]), dest, dev, proto))
    # A peer still holds a session with this node's previous boot and keeps sending on it
    # (this node drops it) until it re-handshakes on its own, up to ~15 s later. One packet
    # to each peer's tunnel address makes this node start the handshakes now; in the
    # background, bounded (ping -W 1), so the boot does not wait for peers that are down.
    # One address per peer (its IPv4 one where it has one): one handshake serves both families.
    kick = sorted(str(ipaddress.ip_network(sorted(peer["allowed_ips"], key=family_of)[0]).network_address)
                  for peer in want["peers"].values() if peer["allowed_ips"])
    if kick:
        lines.append("( for peer in %s; do ping -c 1 -W 1 \"$peer\"; done ) >/dev/null 2>&1 &"
                     % " ".join(kick))
    return "\n".join(lines) + "\n"


def choose_implementation(wanted, has_module, modprobe_finds):
    """Pure: kernel or userspace."""
    if wanted != "auto":
        return wanted
    return "kernel" if has_module or modprobe_finds else "userspace"


def check_config(config):
    """Meaning of O(config): a message naming the role variable, or None."""
    for key in ("device", "port", "address", "mtu"):
        if config.get(key) in (None, ""):
            return ("podnet_wireguard_config.%s is missing; pass the host view's wireguard "
                    "(podnet_host.wireguard from filter podnet_host_view)" % key)
    # Written into the boot step's shell lines and `ip` commands: the planner's device rule.
    device = str(config["device"])
    if len(device) > 15 or device in (".", "..") or not all(c in NAME_CHARS + "_" for c in device):
        return ("podnet_wireguard_config.device: %r is not a valid Linux interface name: give 1-15 "
                "characters of [A-Za-z0-9_.-], not '.' or '..' (podnet_plan_wireguard_device)" % device)
    try:
        net = ipaddress.ip_interface(config["address"])
    except ValueError:
        return "podnet_wireguard_config.address: %r is not an IPv4 address/prefix" % config["address"]
    if net.version != 4:
        return "podnet_wireguard_config.address: %r is not IPv4" % config["address"]
    if not 576 <= int(config["mtu"]) <= 9216 - 80:
        return "podnet_wireguard_config.mtu: %s is outside 576-9136; fix podnet_plan_underlay_mtu" % config["mtu"]
    address6 = config.get("address_ipv6")
    if address6 not in (None, ""):
        try:
            net6 = ipaddress.ip_interface(address6)
        except ValueError:
            net6 = None
        if net6 is None or net6.version != 6 or "/" not in str(address6):
            return ("podnet_wireguard_config.address_ipv6: %r is not an IPv6 address/prefix (the "
                    "node's IPv6 pod prefix's network address/128, or null)" % (address6,))
        if int(config["mtu"]) < 1280:
            return ("podnet_wireguard_config.mtu: %s is below 1280, IPv6's minimum, and the device "
                    "holds address_ipv6; raise podnet_plan_underlay_mtu" % config["mtu"])
    for peer in config.get("peers") or []:
        for key in ("hostname", "endpoint", "allowed_ips"):
            if not peer.get(key):
                return "podnet_wireguard_config.peers: an entry lacks %s (%r)" % (key, peer)
        # Written into the peers file's comments: an RFC 1123 name (the planner's rule).
        if not all(c in NAME_CHARS for c in str(peer["hostname"])) or len(str(peer["hostname"])) > 253:
            return ("podnet_wireguard_config.peers: hostname %r is not an RFC 1123 hostname; rename "
                    "the host in the inventory" % (peer["hostname"],))
        if norm_endpoint(peer["endpoint"]) is None:
            return ("podnet_wireguard_config.peers: %s's endpoint %r is not A.B.C.D:port or "
                    "[IPv6]:port (an IPv6 address in brackets, port 1-65535)"
                    % (peer["hostname"], peer["endpoint"]))
        if isinstance(peer["allowed_ips"], (str, bytes)):
            return ("podnet_wireguard_config.peers: %s's allowed_ips must be a list of prefixes, "
                    "not %r" % (peer["hostname"], peer["allowed_ips"]))
        for prefix in peer["allowed_ips"]:
            try:
                norm_prefix(prefix)
            except (ValueError, TypeError):
                return ("podnet_wireguard_config.peers: %s's allowed IP %r is not an IPv4 or IPv6 "
                        "prefix with no host bits set (e.g. 10.244.16.0/24, fd00:10:244:16::/64)"
                        % (peer["hostname"], prefix))
    return None


def persisted_preshared_key(conf_text):
    """Pure: the preshared key of the peers file a run persisted (conf_content), or None
    when it holds none. Every peer has the same one (O(preshared_key))."""
    for line in (conf_text or "").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() == "PresharedKey" and value.strip():
            return value.strip()
    return None


# ---------------------------------------------------------------- apply

ARGUMENT_SPEC = dict(
    state=dict(type="str", default="present", choices=["present", "absent"]),
    config=dict(type="dict"),
    key_path=dict(type="path", default="/etc/podnet/wireguard/private.key"),
    fact_path=dict(type="path", default="/etc/ansible/facts.d/podnet_wireguard.fact"),
    preshared_key=dict(type="str", no_log=True),
    preshared_key_from_node=dict(type="bool", default=False),
    implementation=dict(type="str", default="auto", choices=["auto", "kernel", "userspace"]),
    protocol=dict(type="int", default=193),
    routes_protocol=dict(type="int", default=191),
    # Dual stack: the device's IPv6 address when O(config) holds none (the role's
    # podnet_wireguard_address_ipv6); null keeps what config says.
    address_ipv6=dict(type="str"),
)


def converge(module):
    """Read, plan (pure) and apply with MODULE (an AnsibleModule, or the agent's stand-in
    with the same surface); ends in module.exit_json (finish) or module.fail_json."""
    p = module.params
    config = p["config"] if p["state"] == "present" else None
    if config is not None and p.get("address_ipv6"):
        if config.get("address_ipv6") not in (None, "", p["address_ipv6"]):
            module.fail_json(msg="podnet_wireguard_address_ipv6: %s differs from "
                             "podnet_wireguard_config.address_ipv6 %s; give one of them"
                             % (p["address_ipv6"], config["address_ipv6"]))
        config = dict(config, address_ipv6=p["address_ipv6"])
    if config is not None:
        error = check_config(config)
        if error:
            module.fail_json(msg=error)
    # Every route of this protocol off the device is deleted: the number must be podnet's
    # alone, as podnet_routes checks its own (it used to be checked for range only).
    error = check_route_protocol(p["protocol"], read_named_protocols(module),
                                 "podnet_wireguard_route_protocol", 193)
    if error:
        module.fail_json(msg=error)
    if p["protocol"] == p["routes_protocol"]:
        module.fail_json(msg="podnet_wireguard_route_protocol: %d must differ from podnet_routes' "
                         "protocol %d" % (p["protocol"], p["routes_protocol"]))
    device = config["device"] if config else "flannel-wg"
    params = dict(device=device, key_path=p["key_path"], protocol=p["protocol"],
                  routes_protocol=p["routes_protocol"])
    if config is None and p["config"]:
        params["device"] = device = p["config"].get("device") or device

    actions, diffs = [], []
    runner = CommandRunner(module, actions)
    link = parse_link(runner.read("ip", ["-d", "link", "show", "dev", device], json_flag="-json"))
    private = None
    if config is not None:
        try:
            with open(p["key_path"]) as handle:
                private = handle.read().strip() or None
        except (IOError, OSError):
            private = None
        if private:
            module.no_log_values.add(private)
        elif not module.check_mode:
            module.fail_json(msg="%s: no private key; the role's key step "
                             "(podnet_wireguard_key) makes it before this module" % p["key_path"])
    psk = p["preshared_key"]
    if not psk and p["preshared_key_from_node"]:
        psk = persisted_preshared_key(read_text(module, "%s/%s.conf" % (CONF_DIR, device)))
    if psk:
        module.no_log_values.add(psk)
    wg = None
    if link is not None and link.get("alias") == OWNER_MARK:
        wg = parse_dump(runner.read("wg", ["show", device, "dump"],
                                    missing=CommandRunner.MISSING + ("Unable to access interface",)))
        if wg:
            module.no_log_values.add(wg["private_key"])
    unit_active = False
    if os.path.isdir("/run/systemd/system"):
        out = runner.read("systemctl", ["is-active", unit_name(device)], missing=("",)) or ""
        unit_active = out.strip() in ("active", "activating")

    want = None
    implementation = None
    if config is not None:
        has_module = os.path.isdir("/sys/module/wireguard")
        finds = False
        if p["implementation"] == "auto" and not has_module:
            modprobe = module.get_bin_path("modprobe")
            if modprobe:
                finds = module.run_command([modprobe, "-n", "-q", "wireguard"])[0] == 0
        implementation = choose_implementation(p["implementation"], has_module, finds)
        if implementation == "userspace" and not module.get_bin_path("wireguard-go"):
            module.fail_json(msg="this kernel has no WireGuard module and wireguard-go is not "
                             "installed: keep wireguard-go in podnet_wireguard_packages, or set "
                             "podnet_wireguard_implementation: kernel where the module exists")
        peers, pending = want_peers(config, psk)
        want = dict(device=device, port=int(config["port"]), address=config["address"],
                    mtu=int(config["mtu"]), peers=peers, implementation=implementation)
        if config.get("address_ipv6"):
            want["address_ipv6"] = str(ipaddress.ip_interface(config["address_ipv6"]))
    else:
        pending = []
    dests = set()
    if want:
        dests = set(ip for peer in want["peers"].values() for ip in peer["allowed_ips"])
    routes = parse_routes(runner.read("ip", ["-Numeric", "-4", "route", "show", "table", "main"],
                                      json_flag="-json"), p["protocol"], p["routes_protocol"], dests)
    # IPv6 ones too, whatever the config: a podnet route of either family is removed when stale.
    ipv6 = os.path.exists(IPV6_PROC)
    if ipv6:
        routes.update(parse_routes(runner.read("ip", ["-Numeric", "-6", "route", "show", "table", "main"],
                                               json_flag="-json"), p["protocol"], p["routes_protocol"],
                                   dests, family_=6))
    live = dict(link=link, addresses=parse_addresses(runner.read(
        "ip", ["-4", "addr", "show", "dev", device], json_flag="-json")) if link else [],
        wg=wg, routes=routes, private_key=private, unit_active=unit_active,
        addresses_ipv6=read_ipv6_addresses(runner, device) if link and ipv6 else [],
        disable_ipv6=read_disable_ipv6(module, device) if link and want and want.get("address_ipv6") else None)
    result = plan(live, want, params)
    if result["error"]:
        module.fail_json(msg=result["error"])
    for hostname in pending:
        module.warn("podnet_wireguard: peer %s has no known public key yet (it has not made its "
                    "key: check mode on a new node, or it was unreachable); it is added once it "
                    "has" % hostname)

    before_peers = {}
    for key, peer in ((wg or {}).get("peers") or {}).items():
        before_peers[key] = {"endpoint": peer["endpoint"], "allowed_ips": peer["allowed_ips"]}
    after_peers = {}
    if want:
        after_peers = {key: {"endpoint": peer["endpoint"], "allowed_ips": peer["allowed_ips"]}
                       for key, peer in want["peers"].items()}

    for tool, args, shown, data in result["commands"]:
        if tool == "start-userspace":
            dev = args[0]
            if os.path.isdir("/run/systemd/system"):
                runner.change("systemd-run", ["--collect", "--unit=" + unit_name(dev),
                                              "--description=podnet WireGuard %s (wireguard-go)" % dev,
                                              module.get_bin_path("wireguard-go", required=True),
                                              "-f", dev])
            else:
                runner.change("wireguard-go", [dev])
        elif tool == "sysctl":
            write_proc(module, args[0], args[1], actions)
        elif tool == "wait":
            if not module.check_mode:
                for dummy in range(100):
                    if os.path.exists("/sys/class/net/%s" % args[0]) and os.path.exists(
                            "/var/run/wireguard/%s.sock" % args[0]):
                        break
                    time.sleep(0.1)
                else:
                    module.fail_json(msg="wireguard-go did not bring %s up within 10 s; see "
                                     "journalctl -u %s" % (args[0], unit_name(args[0])), actions=actions)
        else:
            if data is not None:
                shown = "%s %s (preshared key on stdin)" % (tool, " ".join(args))
            runner.change(tool, args, data=data, shown=shown)

    conf_path = "%s/%s.conf" % (CONF_DIR, device)
    secret = bool(psk)
    if want is not None:
        persist_file(module, conf_path, conf_content(want), actions, diffs, mode="0600", secret=secret)
        boot_step(module, BOOT_ORDER, "wireguard", boot_script(want, params, conf_path), actions, diffs)
    else:
        persist_file(module, conf_path, None, actions, diffs, secret=True)
        boot_step(module, BOOT_ORDER, "wireguard", None, actions, diffs)
        gone = {conf_path}
        if p["state"] == "absent":
            # Reset: the node's key goes too (a node that comes back makes a new one).
            persist_file(module, p["key_path"], None, actions, diffs, secret=True)
            persist_file(module, p["fact_path"], None, actions, diffs)
            gone.add(p["key_path"])
        remove_emptied_directory(module, CONF_DIR, actions, gone)
    if result["commands"]:
        live_diff(diffs, "wireguard %s" % device,
                  {"device": link and {"mtu": link["mtu"], "up": link["up"]}, "peers": before_peers},
                  {"device": want and {"mtu": want["mtu"], "up": True}, "peers": after_peers})
    names = {}
    if want:
        names = {peer["hostname"]: dict(public_key=key, endpoint=peer["endpoint"],
                                        allowed_ips=peer["allowed_ips"])
                 for key, peer in want["peers"].items()}
    finish(module, actions, diffs, implementation=implementation, peers=names, pending=pending)
