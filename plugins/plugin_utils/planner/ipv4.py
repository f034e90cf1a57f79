# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""IPv4 parsing (netaddr, strict) and the integer helpers used in hot loops.

Inputs are parsed once with netaddr; everything after that works on plain
integers, which is what keeps a 10,000-node plan well under a second.

netaddr is imported only where a value missed the fast path (malformed or unusual
input): Ansible imports the planner in every forked worker that uses any filter, and
netaddr's import alone costs about 60 ms there, per host and task.
"""

import socket

from .errors import PlanError

MASK32 = 0xFFFFFFFF


def mask(prefixlen):
    """Netmask of ``prefixlen`` as an integer."""
    return (MASK32 << (32 - prefixlen)) & MASK32


def ntoa(value):
    """Integer -> dotted quad (faster than ``str(netaddr.IPAddress(i))``)."""
    return "%d.%d.%d.%d" % (value >> 24, (value >> 16) & 255, (value >> 8) & 255, value & 255)


def cidr(value, prefixlen):
    """Integer network + prefix length -> ``"a.b.c.d/p"``."""
    return "%s/%d" % (ntoa(value), prefixlen)


def aton(text):
    """Dotted quad -> integer via the C parser; for validated strings only."""
    return int.from_bytes(socket.inet_aton(text), "big")


def fast_aton(text):
    """Dotted quad -> integer, for strings the planner itself produced."""
    a, b, c, d = text.split(".")
    return (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)


def fast_cidr(text):
    """``"a.b.c.d/p"`` produced by the planner -> (int network, prefixlen)."""
    addr, dummy, plen = text.partition("/")
    return fast_aton(addr), int(plen)


def _pton(text):
    """Strict dotted quad -> int, or None (C fast path; netaddr decides errors)."""
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, TypeError, ValueError):
        return None


def parse_address(value, what):
    """Parse an IPv4 address (no prefix). ``what`` names the culprit."""
    if isinstance(value, str):
        fast = _pton(value)
        if fast is not None:
            return fast
    if not isinstance(value, str) or not value:
        raise PlanError("%s: %r is not an IPv4 address; give a dotted quad such as '192.0.2.10'" % (what, value))
    if "/" in value:
        raise PlanError("%s: %r must be a bare IPv4 address without '/prefix'; give the prefix "
                        "length in the separate 'prefix' key" % (what, value))
    if ":" in value:
        raise PlanError("%s: %r is IPv6; podnet plans an IPv4 pod network, give the host's IPv4 "
                        "underlay address" % (what, value))
    import netaddr  # pylint: disable=import-outside-toplevel  # slow path only
    try:
        return int(netaddr.IPAddress(value, version=4))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise PlanError("%s: %r is not a valid IPv4 address; give a dotted quad such as "
                        "'192.0.2.10'" % (what, value)) from None


def parse_cidr(value, what):
    """Parse a strict IPv4 CIDR ``"a.b.c.d/p"`` (no host bits) -> (int, prefixlen)."""
    if isinstance(value, str):
        address, dummy, plen = value.partition("/")
        if plen.isdigit() and len(plen) <= 2 and int(plen) <= 32:
            fast = _pton(address)
            if fast is not None:
                plen = int(plen)
                net_int = fast & mask(plen)
                if net_int != fast:
                    raise PlanError("%s: %r has host bits set; did you mean '%s'?" % (
                        what, value, cidr(net_int, plen)))
                return net_int, plen
    if not isinstance(value, str) or "/" not in value:
        raise PlanError("%s: %r is not an IPv4 CIDR; write it as network/prefix, e.g. "
                        "'10.244.0.0/16'" % (what, value))
    if ":" in value:
        raise PlanError("%s: %r is IPv6; podnet plans IPv4 only, give an IPv4 CIDR such as "
                        "'10.244.0.0/16'" % (what, value))
    import netaddr  # pylint: disable=import-outside-toplevel  # slow path only
    try:
        net = netaddr.IPNetwork(value, version=4)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise PlanError("%s: %r is not a valid IPv4 CIDR; write it as network/prefix, e.g. "
                        "'10.244.0.0/16'" % (what, value)) from None
    value_int = int(net.ip)
    plen = net.prefixlen
    net_int = value_int & mask(plen)
    if net_int != value_int:
        raise PlanError("%s: %r has host bits set; did you mean '%s'?" % (what, value, cidr(net_int, plen)))
    return net_int, plen


def overlaps(a_net, a_len, b_net, b_len):
    """True if two (int, prefixlen) networks share any address."""
    common = min(a_len, b_len)
    m = mask(common)
    return (a_net & m) == (b_net & m)
