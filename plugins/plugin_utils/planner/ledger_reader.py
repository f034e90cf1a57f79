# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ledger reader: one check of the whole ledger document, where it is read.

The podnet_plan_ledger action reads the ledger file through ``read_ledger_text`` and role
podnet_registry reads the etcd registry's copy through ``ledger_registry_read``, so no
filter and no planner function ever sees a document that is not a ledger: every error
names the file (or the etcd key), the key path (``nodes.a1.pod_cidr``) and the fix.

The schema is what ``ledger.ledger(plan)`` writes (version 2) or wrote (version 1: no
prefix, state or reset mark)::

    podnet_ledger: 2
    cluster_cidr: 10.244.0.0/16
    node_prefix: 24
    zone_prefix: 20                      # optional (null: the planner's default)
    zones: {zone: block}                 # or {zone: {block: block}}
    nodes: {host: {zone, pod_cidr, address?, prefix?, state?, reset?, wireguard_key?}}
    routing: {backend?, underlay_mtu?, vxlan?, zone_backends?, cross_zone_backend?, wireguard?}

and, once a plan was dual stack, the IPv6 half beside it (each node record then holds
``pod_cidr_ipv6`` and, where known, ``address_ipv6``/``prefix_ipv6``)::

    cluster_cidr_ipv6: fd00:10:244::/56
    node_prefix_ipv6: 64
    zone_prefix_ipv6: 60
    zones_ipv6: {zone: block}
"""

import yaml

from .errors import PlanError
from .addresses import IPV4, IPV6

READABLE_VERSIONS = (1, 2)
STATES = ("allocated", "released-pending")
TOP_KEYS = ("cluster_cidr", "node_prefix", "nodes", "podnet_ledger", "routing", "zone_prefix",
            "zones")
IPV6_TOP_KEYS = ("cluster_cidr_ipv6", "node_prefix_ipv6", "zone_prefix_ipv6", "zones_ipv6")
NODE_KEYS = ("address", "pod_cidr", "prefix", "reset", "state", "wireguard_key", "zone")
IPV6_NODE_KEYS = ("address_ipv6", "pod_cidr_ipv6", "prefix_ipv6")
ROUTING_NAMES = ("backend", "cross_zone_backend")
ROUTING_NUMBERS = ("underlay_mtu",)
ROUTING_MAPPINGS = {"vxlan": ("vni", "port", "device"),
                    "wireguard": ("port", "device", "persistent_keepalive")}
FILE_FIX = ("fix it by hand, or restore it from version control (git checkout -- %s)")
ETCD_FIX = ("put back a saved copy (etcdctl get %s --print-value-only > podnet-ledger.json "
            "saves one; etcdctl put %s < podnet-ledger.json restores it), or repair the JSON")


class _Where:
    """Where the document came from, and how to repair it there."""

    def __init__(self, name, fix):
        self.name = name
        self.fix = fix

    def error(self, path, problem):
        """A PlanError: '<where>: <key path>: <problem>; <fix>'."""
        return PlanError("%s: %s: %s; %s" % (self.name, path, problem, self.fix))


def _kind(value):
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if value is None:
        return "nothing (null)"
    return "a %s" % type(value).__name__


def _mapping(where, path, value, of):
    """A mapping (None and absent are empty), with string keys."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise where.error(path, "expected a mapping%s, got %s" % (of, _kind(value)))
    for key in value:
        if not isinstance(key, str) or not key:
            raise where.error(path, "key %r is not a name (write names as strings, quoted if "
                                    "YAML would read them otherwise)" % (key,))
    return value


def _int(where, path, value, low, high, what):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise where.error(path, "%r is not %s" % (value, what))
    return value


def _cidr(where, path, value, fam=IPV4):
    """(int network, prefix length) of a strict CIDR of ``fam``, or an error naming PATH."""
    try:
        return fam.parse_cidr(value, "%s: %s" % (where.name, path))
    except PlanError as exc:
        raise PlanError("%s; %s" % (exc, where.fix)) from None


def _inside(net, plen, outer, fam=IPV4):
    onet, olen = outer
    return plen >= olen and net & fam.mask(olen) == onet


def _check_zones(where, zones, cluster, fam=IPV4, key="zones"):
    blocks = {}
    for zone, block in sorted(_mapping(where, key, zones, " of zone to block").items()):
        path = "%s.%s" % (key, zone)
        if isinstance(block, dict):
            extra = sorted(str(key) for key in block if key != "block")
            if extra:
                raise where.error("%s.%s" % (path, extra[0]),
                                  "unknown key (a zone holds only 'block')")
            block, path = block.get("block"), path + ".block"
        net, plen = _cidr(where, path, block, fam)
        if not _inside(net, plen, cluster, fam):
            raise where.error(path, "%s lies outside cluster_cidr%s %s" % (
                block, "" if fam is IPV4 else "_ipv6", fam.cidr(*cluster)))
        blocks[zone] = (net, plen, path, block)
    _no_overlap(where, sorted(blocks.values()), "overlaps %s %s: zone blocks never share "
                                                "addresses", fam.bits)
    return blocks


def _text(network):
    return IPV4.cidr(*network)


def _no_overlap(where, spans, problem, bits=32):
    """spans: sorted (net, plen, path, text); two that share an address are an error."""
    last = None
    for net, plen, path, text in spans:
        if last is not None and net <= last[0] + (1 << (bits - last[1])) - 1:
            raise where.error(path, "%s %s" % (text, problem % (last[2], last[3])))
        if last is None or net + (1 << (bits - plen)) > last[0] + (1 << (bits - last[1])):
            last = (net, plen, path, text)


def _underlay(where, path, entry, fam, suffix):
    """A node record's underlay address and prefix of ``fam`` (address/prefix + suffix)."""
    if entry.get("address" + suffix) is not None:
        try:
            fam.parse_address(entry["address" + suffix], "%s: %s.address%s" % (where.name, path, suffix))
        except PlanError as exc:
            raise PlanError("%s; %s" % (exc, where.fix)) from None
    if entry.get("prefix" + suffix) is not None:
        _int(where, "%s.prefix%s" % (path, suffix), entry["prefix" + suffix], 0, fam.bits,
             "a prefix length (0 to %d)" % fam.bits)


def _check_node(where, host, entry, cluster, node_prefix, blocks):
    path = "nodes.%s" % host
    if not isinstance(entry, dict):
        raise where.error(path, "expected a mapping of the node's fields, got %s" % _kind(entry))
    for key in entry:
        if key not in NODE_KEYS + IPV6_NODE_KEYS:
            raise where.error("%s.%s" % (path, key), "unknown field (a node record holds %s)" % (
                ", ".join(NODE_KEYS + IPV6_NODE_KEYS)))
    zone = entry.get("zone", Ellipsis)
    if zone is Ellipsis:
        raise where.error(path + ".zone", "missing (every record names its zone)")
    if not isinstance(zone, str) or not zone:
        raise where.error(path + ".zone", "%r is not a zone name" % (zone,))
    if "pod_cidr" not in entry:
        raise where.error(path + ".pod_cidr", "missing (every record holds its node's pod subnet)")
    cidr = entry["pod_cidr"]
    net, plen = _cidr(where, path + ".pod_cidr", cidr)
    if plen != node_prefix:
        raise where.error(path + ".pod_cidr", "%s is not a /%d, the ledger's node_prefix" % (
            cidr, node_prefix))
    if not _inside(net, plen, cluster):
        raise where.error(path + ".pod_cidr", "%s lies outside cluster_cidr %s" % (
            cidr, _text(cluster)))
    if zone not in blocks:
        raise where.error(path + ".zone", "%r has no block in zones (podnet records the block of "
                                          "every zone it placed a node in)" % (zone,))
    if not _inside(net, plen, blocks[zone][:2]):
        raise where.error(path + ".pod_cidr", "%s lies outside its zone %s's block %s" % (
            cidr, zone, blocks[zone][3]))
    _underlay(where, path, entry, IPV4, "")
    state = entry.get("state", STATES[0])
    if state not in STATES:
        raise where.error(path + ".state", "%r is not a state podnet knows (%s)" % (
            state, ", ".join(STATES)))
    if not isinstance(entry.get("reset", False), bool):
        raise where.error(path + ".reset", "%r is not true or false" % (entry["reset"],))
    key = entry.get("wireguard_key")
    if key is not None and (not isinstance(key, str) or not key):
        raise where.error(path + ".wireguard_key", "%r is not a WireGuard public key" % (key,))
    return (net, plen, path + ".pod_cidr", cidr)


def _check_ipv6(where, document, nodes):
    """The IPv6 half of a dual-stack ledger: its cluster CIDR, prefixes, zone blocks and each
    node's IPv6 fields, as the IPv4 half is checked. An IPv4-only ledger has none of them."""
    if document.get("cluster_cidr_ipv6") is None:
        for key in IPV6_TOP_KEYS:
            if document.get(key) is not None:
                raise where.error(key, "given without cluster_cidr_ipv6 (the IPv6 keys go together)")
        for host, entry in nodes.items():
            for key in IPV6_NODE_KEYS:
                if isinstance(entry, dict) and entry.get(key) is not None:
                    raise where.error("nodes.%s.%s" % (host, key),
                                      "an IPv6 field, but the ledger has no cluster_cidr_ipv6")
        return
    cluster = _cidr(where, "cluster_cidr_ipv6", document["cluster_cidr_ipv6"], IPV6)
    node_prefix = _int(where, "node_prefix_ipv6", document.get("node_prefix_ipv6"), cluster[1] + 1,
                       128, "a prefix length longer than the IPv6 cluster CIDR's /%d" % cluster[1])
    zone_prefix = document.get("zone_prefix_ipv6")
    if zone_prefix is not None:
        _int(where, "zone_prefix_ipv6", zone_prefix, cluster[1], node_prefix,
             "a prefix length between the IPv6 cluster CIDR's /%d and node_prefix_ipv6 /%d" % (
                 cluster[1], node_prefix))
    blocks = _check_zones(where, document.get("zones_ipv6"), cluster, IPV6, "zones_ipv6")
    held = []
    for host, entry in sorted(nodes.items()):
        path = "nodes.%s" % host
        _underlay(where, path, entry, IPV6, "_ipv6")
        text = entry.get("pod_cidr_ipv6")
        if text is None:
            continue  # released before the ledger went dual stack: it holds no IPv6 prefix
        net, plen = _cidr(where, path + ".pod_cidr_ipv6", text, IPV6)
        if plen != node_prefix:
            raise where.error(path + ".pod_cidr_ipv6", "%s is not a /%d, the ledger's "
                                                       "node_prefix_ipv6" % (text, node_prefix))
        block = blocks.get(entry.get("zone"))
        if block is None or not _inside(net, plen, block[:2], IPV6):
            raise where.error(path + ".pod_cidr_ipv6", "%s lies outside its zone %s's IPv6 block %s" % (
                text, entry.get("zone"), block[3] if block else "(none in zones_ipv6)"))
        held.append((net, plen, path + ".pod_cidr_ipv6", text))
    _no_overlap(where, sorted(held), "is also held by %s (%s): a prefix has one holder, one of "
                                     "the two records is wrong", 128)


def _check_routing(where, routing):
    for key, value in sorted(_mapping(where, "routing", routing, "").items()):
        path = "routing.%s" % key
        if key in ROUTING_NAMES:
            if not isinstance(value, str):
                raise where.error(path, "%r is not a backend name" % (value,))
        elif key in ROUTING_NUMBERS:
            _int(where, path, value, 0, 1 << 20, "a number")
        elif key in ROUTING_MAPPINGS:
            for field, item in _mapping(where, path, value, "").items():
                if field not in ROUTING_MAPPINGS[key]:
                    raise where.error("%s.%s" % (path, field), "unknown key (known: %s)" % (
                        ", ".join(ROUTING_MAPPINGS[key])))
                if field == "device":
                    if item is not None and not isinstance(item, str):
                        raise where.error("%s.%s" % (path, field), "%r is not a device name" % (
                            item,))
                else:
                    _int(where, "%s.%s" % (path, field), item, 0, 1 << 24, "a number")
        elif key == "zone_backends":
            for zone, backend in _mapping(where, path, value, " of zone to backend").items():
                if not isinstance(backend, str):
                    raise where.error("%s.%s" % (path, zone), "%r is not a backend name" % (
                        backend,))
        else:
            raise where.error(path, "unknown key (routing holds %s)" % ", ".join(
                sorted(ROUTING_NAMES + ROUTING_NUMBERS + tuple(ROUTING_MAPPINGS) + ("zone_backends",))))


def _check(document, where):
    if not isinstance(document, dict) or isinstance(document.get("podnet_ledger"), bool) \
            or not isinstance(document.get("podnet_ledger"), int):
        raise PlanError("%s is not a podnet ledger (no 'podnet_ledger: <version>' mapping at its "
                        "top); %s, or point podnet_plan_ledger_path at the right file" % (
                            where.name, where.fix))
    for key in document:
        if key not in TOP_KEYS + IPV6_TOP_KEYS:
            raise where.error(key, "unknown key (a ledger holds %s)" % ", ".join(TOP_KEYS + IPV6_TOP_KEYS))
    version = document["podnet_ledger"]
    if version not in READABLE_VERSIONS:
        raise where.error("podnet_ledger", "%r is not a ledger format this podnet reads (%s); is "
                          "this the right file, or did a newer podnet write it?" % (
                              version, ", ".join(map(str, READABLE_VERSIONS))))
    for key in ("cluster_cidr", "node_prefix"):
        if document.get(key) is None:
            raise where.error(key, "missing (every ledger records it)")
    if version == 2:
        # Every version 2 ledger holds these (routing came later): one missing is a cut file.
        for key in TOP_KEYS:
            if key not in document and key != "routing":
                raise where.error(key, "missing (podnet writes every key of a version 2 ledger: "
                                       "is it cut short?)")
    cluster = _cidr(where, "cluster_cidr", document["cluster_cidr"])
    node_prefix = _int(where, "node_prefix", document["node_prefix"], 0, 32,
                       "a prefix length (0 to 32)")
    if node_prefix <= cluster[1]:
        raise where.error("node_prefix", "/%d must be longer than the cluster CIDR's /%d" % (
            node_prefix, cluster[1]))
    zone_prefix = document.get("zone_prefix")
    if zone_prefix is not None:
        _int(where, "zone_prefix", zone_prefix, 0, 32, "a prefix length (0 to 32)")
        if not cluster[1] <= zone_prefix <= node_prefix:
            raise where.error("zone_prefix", "/%d must lie between the cluster CIDR's /%d and "
                              "node_prefix /%d" % (zone_prefix, cluster[1], node_prefix))
    blocks = _check_zones(where, document.get("zones"), cluster)
    nodes = _mapping(where, "nodes", document.get("nodes"), " of hostname to record")
    held = sorted(_check_node(where, host, entry, cluster, node_prefix, blocks)
                  for host, entry in nodes.items())
    _no_overlap(where, held, "is also held by %s (%s): a subnet has one holder, one of the two "
                             "records is wrong")
    _check_ipv6(where, document, nodes)
    _check_routing(where, document.get("routing"))
    return document


def check_ledger(document, where="the ledger", fix=None):
    """``document`` when it is a whole, consistent ledger, else a PlanError naming ``where``
    (the file or etcd key), the key path and ``fix`` (default: restore the file)."""
    return _check(document, _Where(where, fix or FILE_FIX % where))


class _DuplicateKey(Exception):
    def __init__(self, key, mark):
        super().__init__(key)
        self.key, self.mark = key, mark


class _Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """YAML's safe loader, refusing a key written twice in one mapping (PyYAML keeps the last
    one silently: a merge that left two records of one node would lose one)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, dummy in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise _DuplicateKey(key, key_node.start_mark)
                seen.add(key)
            except TypeError:
                pass  # unhashable: construct_mapping below says so
        return super().construct_mapping(node, deep=deep)


def read_ledger_text(raw, path):
    """The ledger document in ``raw`` (the bytes or text of the ledger file ``path``).

    An empty file (0 bytes, or only comments and blank lines) is an error, not a first
    run: a run from it would forget every node it cannot reach and every released-pending
    subnet. A missing file is the caller's business (a first run)."""
    where = _Where(path, FILE_FIX % path)
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PlanError("%s is not UTF-8 text (%s); restore it from version control (git "
                            "checkout -- %s)" % (path, exc, path)) from None
    try:
        document = yaml.load(raw, Loader=_Loader)  # noqa: S506 -- a SafeLoader subclass
    except _DuplicateKey as exc:
        raise PlanError("%s: line %d: key %r appears twice in one mapping (a merge left both?); "
                        "keep the right one, %s" % (
                            path, exc.mark.line + 1, exc.key, where.fix)) from None
    except Exception as exc:  # pylint: disable=broad-except  # YAML raises more than YAMLError
        raise PlanError("%s is not valid YAML (%s); restore it from version control (git "
                        "checkout -- %s) or repair it by hand" % (
                            path, " ".join(str(exc).split()), path)) from None
    if document is None:
        raise PlanError("%s is empty: podnet found no ledger in it (%s). A run from it would "
                        "start a new ledger and hand out the subnets of the nodes it cannot reach "
                        "and of the released-pending ones: delete the file to start over, or "
                        "restore it from version control (git checkout -- %s)" % (
                            path, "0 bytes" if not raw else "only comments and blank lines", path))
    return check_ledger(document, path)


def ledger_registry_read(kvs, prefix="/coreos.com/network"):
    """``registry_read(kvs, prefix)`` with its ledger checked by the same reader, errors
    naming the etcd key the document came from, and ``prefix`` (where it was read: the
    planner names the etcd keys of the live leases it holds, ``registry_hold``)."""
    from .registry import LEDGER_KEY, registry_read  # pylint: disable=import-outside-toplevel

    content = registry_read(kvs, prefix)
    content["prefix"] = prefix.rstrip("/")
    if content["ledger"]:
        key = "%s/%s" % (prefix.rstrip("/"), LEDGER_KEY)
        if key not in (kvs or {}):
            key = "%s/config" % prefix.rstrip("/")  # flannel's config, no ledger of podnet yet
        check_ledger(content["ledger"], "etcd key %s" % key, ETCD_FIX % (key, key))
    return content


__all__ = ["check_ledger", "read_ledger_text", "ledger_registry_read"]
