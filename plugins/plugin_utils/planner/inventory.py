# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet's inventory API: host variables and reported facts as the planner's inputs.

They turn Ansible's ``hostvars`` (passed in as a plain dict) into the ``nodes`` and
``reported`` dicts that ``ledger_inputs`` and ``plan`` take, so the playbooks hold no
logic in Jinja.
"""

import ipaddress

from .errors import PlanError
from .names import KNOBS, hostname, role_inputs
from .validate import backends_use_wireguard


def _is_ipv4(value) -> bool:
    try:
        return isinstance(ipaddress.ip_address(str(value)), ipaddress.IPv4Address)
    except ValueError:
        return False


def _facts(hvars) -> dict:
    facts = hvars.get("ansible_facts") or {}
    return facts if isinstance(facts, dict) else {}


def _prefix(host, value, source, bits=32):
    """An underlay prefix length from the inventory or the ledger, or an error naming it."""
    if isinstance(value, bool):
        value = None
    elif isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 0 <= value <= bits:
        raise PlanError(
            f"host {host!r}: {source} is {value!r}, not a prefix length; give the "
            f"underlay network's prefix length as a number between 0 and {bits}, e.g. "
            f"{24 if bits == 32 else 64}")
    return value


def _ipv6_underlay(host, hvars, recorded, record):
    """A node's IPv6 underlay (dual stack): what the inventory sets (podnet_address_ipv6,
    podnet_underlay_prefix_ipv6), else what the ledger recorded. Hosts are not asked for
    it yet: an IPv6 underlay is given in the inventory."""
    address = hvars.get("podnet_address_ipv6") or recorded.get("address_ipv6")
    if not address:
        return
    record["address_ipv6"] = str(address)
    prefix = hvars.get("podnet_underlay_prefix_ipv6")
    source = "podnet_underlay_prefix_ipv6"
    if prefix is None and recorded.get("prefix_ipv6") is not None \
            and recorded.get("address_ipv6") == record["address_ipv6"]:
        prefix, source = recorded.get("prefix_ipv6"), "its ledger entry's prefix_ipv6"
    if prefix is not None:
        record["prefix_ipv6"] = _prefix(host, prefix, source, 128)


def inventory_nodes(hosts, hostvars, ledger=None, partial=False) -> dict:
    """Return the planner's ``nodes`` input for ``hosts`` (see filter_plugins/podnet_inventory_nodes.py).

    What the operator set wins, then what the ledger recorded, then what the host
    reports: a host that cannot be reached keeps its recorded address and prefix,
    whatever ``ansible_host`` says. With ``partial`` (before any host was asked) a
    host whose address only the host itself can tell gets ``address: None``.
    """
    ledger_nodes = ((ledger or {}).get("nodes") or {}) if isinstance(ledger, dict) else {}
    nodes = {}
    for host in hosts:
        hvars = hostvars[host]
        inventory_knobs(host, hvars)
        zone = hvars.get("podnet_zone")
        if not zone:
            raise PlanError(
                f"host {host!r} has no zone: set podnet_zone for it (usually in the "
                "group_vars of its zone group)")
        if not isinstance(zone, str):
            raise PlanError(
                f"host {host!r}: podnet_zone is {zone!r}, not a name; set it to one "
                "string, the name of the host's zone (datacenter), e.g. podnet_zone: ams1")
        default_ipv4 = _facts(hvars).get("default_ipv4") or {}
        recorded = ledger_nodes.get(host) if isinstance(ledger_nodes.get(host), dict) else {}
        record = {"zone": zone}
        address = (hvars.get("podnet_address") or recorded.get("address")
                   or default_ipv4.get("address"))
        # ansible_host only stands in for a host that did not answer: before the hosts are
        # asked (partial) it may be a tunnel's 127.0.0.1 while the facts tell the truth.
        if not address and not partial and _is_ipv4(hvars.get("ansible_host")):
            address = hvars.get("ansible_host")
        _ipv6_underlay(host, hvars, recorded, record)
        if not address and not partial and not record.get("address_ipv6"):
            raise PlanError(
                f"cannot tell the underlay address of host {host!r}: it was not "
                "reachable for facts and the ledger has no record of it; set podnet_address "
                "for it or make it reachable")
        record["address"] = str(address) if address else None
        prefix = hvars.get("podnet_underlay_prefix")
        source = "podnet_underlay_prefix"
        if prefix is None and recorded.get("prefix") is not None \
                and recorded.get("address") == record["address"]:
            prefix, source = recorded.get("prefix"), "its ledger entry's prefix"
        if prefix is None and address and default_ipv4.get("address") == record["address"]:
            prefix, source = default_ipv4.get("prefix"), "the prefix its facts report"
        if prefix is not None:
            record["prefix"] = _prefix(host, prefix, source)
        if hvars.get("podnet_pod_cidr"):
            record["pod_cidr"] = str(hvars.get("podnet_pod_cidr"))
        if hvars.get("podnet_pod_cidr_ipv6"):
            record["pod_cidr_ipv6"] = str(hvars.get("podnet_pod_cidr_ipv6"))
        key = reported_wireguard_key(hvars)
        if key:
            record["wireguard_key"] = key
        nodes[host] = record
    return nodes


def inventory_knobs(host, hvars):
    """Check a node's name and the roles' knobs its inventory sets (the names.KNOBS rules),
    in the first play, before any host is contacted; the roles check them again in their
    own preflight, where they run on their own."""
    hostname(host, "inventory host")
    knobs = {name: hvars[name] for name in sorted(KNOBS) if name != "inventory_hostname" and name in hvars}
    try:
        role_inputs(knobs)
    except PlanError as exc:
        raise PlanError("host %s (inventory): %s" % (host, exc)) from exc


def reported_wireguard_key(hvars):
    """The WireGuard public key a host reports in the facts step: what its key step
    (role podnet_wireguard, entry ``key``) returned in this run (fact ``podnet_wireguard``),
    else its local fact file (``ansible_local.podnet_wireguard``), else None."""
    facts = _facts(hvars)
    for fact in (facts.get("podnet_wireguard"),
                 (facts.get("ansible_local") or facts.get("local") or {}).get("podnet_wireguard")):
        if isinstance(fact, dict) and fact.get("public_key"):
            return str(fact["public_key"])
    return None


def reported_subnets(hosts, hostvars) -> dict:
    """Return ``{host: pod_cidr or None}`` for the hosts that gathered facts."""
    reported = {}
    for host in hosts:
        facts = _facts(hostvars[host])
        if not facts:
            continue  # not reached this run: the ledger speaks for it
        local = (facts.get("ansible_local") or facts.get("local") or {}).get("podnet") or {}
        reported[host] = local.get("pod_cidr") or None
    return reported


def allocation_table(plan) -> list:
    """Return aligned human-readable lines: host, zone, address, pod subnet, MTU (and the
    IPv6 pod prefix of a dual-stack plan)."""
    dual = bool((plan.get("network") or {}).get("cluster_cidr_ipv6"))
    rows = [("HOST", "ZONE", "ADDRESS", "POD SUBNET", "MTU") + (("POD PREFIX IPV6",) if dual else ())]
    for host in sorted(plan["nodes"]):
        node = plan["nodes"][host]
        rows.append((host, node["zone"], node["address"] or node.get("address_ipv6") or "",
                     node["pod_cidr"], str(node["mtu"])) + ((node["pod_cidr_ipv6"],) if dual else ()))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
            for row in rows] + held_lines(plan)


def held_lines(plan) -> list:
    """One line per subnet a live lease holds outside the plan (etcd mode): its PublicIP and
    why no node is planned onto it."""
    leased = (plan.get("network") or {}).get("leased") or {}
    return ["held: %s by %s (%s; no node is planned onto it while the lease lives)" % (
        subnet, spec.get("address"), spec.get("holder")) for subnet, spec in sorted(leased.items())]


def wireguard_nodes(plan, hostvars) -> list:
    """The nodes the WireGuard concern visits in this run (see filter podnet_wireguard_nodes).

    Where some pair of the network may use WireGuard: every planned node (one without
    WireGuard peers keeps only its key). Otherwise only the nodes that still report a key
    in this run: the concern removes it with the device they held. A node nobody asks
    about costs no task at all."""
    network = plan.get("network") or {}
    nodes = sorted(plan.get("nodes") or {})
    if backends_use_wireguard(network.get("backend"), network.get("zone_backends"),
                              network.get("cross_zone_backend") or "vxlan"):
        return nodes
    return [host for host in nodes if host in hostvars and reported_wireguard_key(hostvars[host])]
