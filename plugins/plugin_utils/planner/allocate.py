# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Zone blocks and node subnets, on integers.

Rules (what keeps allocations stable):
- a pinned zone (network.zones, i.e. the ledger) keeps its block;
- a zone whose nodes carry pins gets the block holding them;
- new zones take the lowest free block, in sorted zone-name order;
- pinned nodes keep their subnet; new nodes take the lowest free subnet of
  their zone block, in sorted hostname order.
Nothing here depends on which other nodes exist beyond the pins they hold, so
adding, removing or reordering nodes never moves anybody.

Both families go through the same code: ``net`` is the IPv4 ``Network`` or the IPv6
``Space`` (validate.py), whose ``family`` gives the width and text forms and whose
``suffix`` names its keys; each node's pin of that family is its ``pin`` (IPv4) or
``pin6`` attribute.
"""

from operator import attrgetter

from .errors import PlanError


def _pin_of(net):
    return attrgetter("pin6" if net.suffix else "pin")


def allocate_zones(net, by_zone):
    """{zone: block int} for every pinned zone and every zone with nodes."""
    zone_len, cluster_len = net.zone_len, net.cluster_len
    cidr, sfx = net.family.cidr, net.suffix
    pin_of = _pin_of(net)
    zmask = net.family.mask(zone_len)
    block_size = 1 << (net.family.bits - zone_len)
    blocks = dict(net.zone_pins)
    owner = {block: zone for zone, block in blocks.items()}
    # Zones implied by their nodes' pins.
    for zone in sorted(by_zone):
        implied = None
        members = by_zone[zone]
        for node, pin in zip(members, map(pin_of, members)):
            if pin is None:
                continue
            block = pin & zmask
            if zone in blocks and block != blocks[zone]:
                raise PlanError(
                    "host %s pod_cidr%s: %s lies outside its zone %r block %s; a host keeps its zone "
                    "for life. To move it, reset the host and drop its pod_cidr%s from the ledger, "
                    "or put it back in zone %r" % (
                        node.name, sfx, cidr(pin, net.node_len), zone, cidr(blocks[zone], zone_len),
                        sfx, zone))
            if implied is None:
                implied = (block, node)
            elif block != implied[0]:
                raise PlanError(
                    "zone %r: pins of host %s (%s) and host %s (%s) lie in different /%d zone blocks; "
                    "all hosts of one zone must share its block, fix or remove one of the pins" % (
                        zone, implied[1].name, cidr(pin_of(implied[1]), net.node_len), node.name,
                        cidr(pin, net.node_len), zone_len))
        if implied is not None and zone not in blocks:
            block, node = implied
            if block in owner:
                raise PlanError(
                    "host %s pod_cidr%s: %s lies in block %s of zone %r, not in a block of its own "
                    "zone %r; pin a subnet outside other zones' blocks or remove the pin" % (
                        node.name, sfx, cidr(pin_of(node), net.node_len), cidr(block, zone_len),
                        owner[block], zone))
            blocks[zone] = block
            owner[block] = zone
    # New zones: lowest free block, sorted zone-name order.
    capacity = 1 << (zone_len - cluster_len)
    new_zones = [zone for zone in sorted(by_zone) if zone not in blocks]
    needed = len(blocks) + len(new_zones)
    candidate = 0
    for zone in new_zones:
        while candidate < capacity and net.cluster_net + candidate * block_size in owner:
            candidate += 1
        if candidate >= capacity:
            raise PlanError(
                "zone %r: no free /%d zone block left in %scluster CIDR %s (%d zones need blocks, it "
                "holds %d); remove unused zones from the ledger, or plan a new cluster with a larger "
                "cluster_cidr%s or a longer zone_prefix%s" % (
                    zone, zone_len, "IPv6 " if sfx else "", cidr(net.cluster_net, cluster_len),
                    needed, capacity, sfx, sfx))
        block = net.cluster_net + candidate * block_size
        blocks[zone] = block
        owner[block] = zone
        candidate += 1
    return blocks


def allocate_nodes(net, by_zone, blocks, held=None):
    """{hostname: subnet int}: pins kept, lowest free subnets for the rest, never one of
    ``held`` ({subnet int: what holds it}, subnets live leases hold outside the plan)."""
    node_len, zone_len = net.node_len, net.zone_len
    cidr, sfx = net.family.cidr, net.suffix
    pin_of = _pin_of(net)
    size = 1 << (net.family.bits - node_len)
    capacity = 1 << (node_len - zone_len)
    zmask = net.family.mask(zone_len)
    held = held or {}
    result = {}
    for zone in sorted(by_zone):
        members = by_zone[zone]  # already sorted by hostname
        base = blocks[zone]
        leased = sorted(subnet for subnet in held if subnet & zmask == base)
        if len(members) + len(leased) > capacity:
            raise PlanError(
                "zone %r: needs %d /%d node subnets but its block %s holds only %d%s; the block "
                "cannot grow in place: put the extra hosts in a new zone name (it gets its own "
                "block), or plan a new cluster with a shorter zone_prefix%s or a longer "
                "node_prefix%s" % (
                    zone, len(members), node_len, cidr(blocks[zone], zone_len), capacity - len(leased),
                    " (%d more are held by %s)" % (len(leased), ", ".join(
                        "%s: %s" % (cidr(s, node_len), held[s]) for s in leased)) if leased else "",
                    sfx, sfx))
        used = set(leased)
        free = []
        for node, pin in zip(members, map(pin_of, members)):
            if pin is None:
                free.append(node.name)
            else:
                used.add(pin)
                result[node.name] = pin
        candidate = base
        for name in free:
            while candidate in used:
                candidate += size
            result[name] = candidate
            candidate += size
    return result
