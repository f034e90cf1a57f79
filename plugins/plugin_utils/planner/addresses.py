# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Addresses of both families: parsing (strict) and the integer helpers of the hot loops.

Inputs are parsed once; everything after that works on plain integers, which is what
keeps a 10,000-node plan well under a second. A ``Family`` (``IPV4``, ``IPV6``) carries
what differs between the two: the width, the text forms, the examples its errors give.
The allocator, the checks and the plan take a family and never copy a helper per family.

The module-level ``mask``, ``ntoa``, ``cidr``, ``aton``, ``fast_aton``, ``fast_cidr`` are
IPv4's own (``IPV4.mask is mask``): the IPv4 hot loops call them directly, as before.
``parse_address``, ``parse_cidr`` and ``overlaps`` take a ``family`` (IPv4 by default).

netaddr is imported only where a value missed the fast path (malformed or unusual
input): Ansible imports the planner in every forked worker that uses any filter, and
netaddr's import alone costs about 60 ms there, per host and task.
"""

import socket

from .errors import PlanError

MASK32 = 0xFFFFFFFF
MASK128 = (1 << 128) - 1


def mask(prefixlen):
    """IPv4 netmask of ``prefixlen`` as an integer."""
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


def mask6(prefixlen):
    """IPv6 netmask of ``prefixlen`` as an integer."""
    return (MASK128 << (128 - prefixlen)) & MASK128


def ntoa6(value):
    """Integer -> IPv6 text in its canonical (RFC 5952) form."""
    return socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))


def cidr6(value, prefixlen):
    """Integer network + prefix length -> ``"2001:db8::/64"``."""
    return "%s/%d" % (ntoa6(value), prefixlen)


def aton6(text):
    """IPv6 text -> integer via the C parser; for validated strings only."""
    return int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")


def fast_cidr6(text):
    """``"2001:db8::/64"`` produced by the planner -> (int network, prefixlen)."""
    addr, dummy, plen = text.partition("/")
    return aton6(addr), int(plen)


class Family:
    """One address family: its width, text forms and the examples its errors give."""

    __slots__ = ("version", "bits", "name", "af", "mask", "ntoa", "cidr", "fast_cidr",
                 "example_address", "example_cidr", "example_service")

    def __init__(self, version, helpers, examples):
        self.version = version
        self.bits = 32 if version == 4 else 128
        self.name = "IPv%d" % version
        self.af = socket.AF_INET if version == 4 else socket.AF_INET6
        self.mask, self.ntoa, self.cidr, self.fast_cidr = helpers
        self.example_address, self.example_cidr, self.example_service = examples

    def __repr__(self):
        return self.name

    def pton(self, text):
        """Strict text -> int, or None (C fast path; netaddr decides errors)."""
        try:
            return int.from_bytes(socket.inet_pton(self.af, text), "big")
        except (OSError, TypeError, ValueError):
            return None

    def _wrong_family(self, value):
        """Whether ``value`` is text of the other family (a hint for the error)."""
        return (":" in value) == (self.version == 4)

    def parse_address(self, value, what, elsewhere=None):
        """An address of this family (no prefix) -> int. ``what`` names the culprit,
        ``elsewhere`` where an address of the other family belongs."""
        if isinstance(value, str):
            fast = self.pton(value)
            if fast is not None:
                return fast
        if not isinstance(value, str) or not value:
            raise PlanError("%s: %r is not an %s address; give %s" % (
                what, value, self.name, self.example_address))
        if "/" in value:
            raise PlanError("%s: %r must be a bare %s address without '/prefix'; give the prefix "
                            "length in the separate 'prefix' key" % (what, value, self.name))
        if self._wrong_family(value):
            raise PlanError("%s: %r is %s; %s" % (
                what, value, IPV6.name if self.version == 4 else IPV4.name,
                elsewhere or "give the host's %s underlay address here" % self.name))
        import netaddr  # pylint: disable=import-outside-toplevel  # slow path only
        try:
            return int(netaddr.IPAddress(value, version=self.version))
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise PlanError("%s: %r is not a valid %s address; give %s" % (
                what, value, self.name, self.example_address)) from None

    def parse_cidr(self, value, what, elsewhere=None):
        """A strict CIDR of this family (no host bits) -> (int, prefixlen)."""
        if isinstance(value, str):
            address, dummy, plen = value.partition("/")
            if plen.isdigit() and len(plen) <= 3 and int(plen) <= self.bits:
                fast = self.pton(address)
                if fast is not None:
                    plen = int(plen)
                    net_int = fast & self.mask(plen)
                    if net_int != fast:
                        raise PlanError("%s: %r has host bits set; did you mean '%s'?" % (
                            what, value, self.cidr(net_int, plen)))
                    return net_int, plen
        if not isinstance(value, str) or "/" not in value:
            raise PlanError("%s: %r is not an %s CIDR; write it as network/prefix, e.g. %r" % (
                what, value, self.name, self.example_cidr))
        if self._wrong_family(value):
            raise PlanError("%s: %r is %s; %s" % (
                what, value, IPV6.name if self.version == 4 else IPV4.name,
                elsewhere or "give an %s CIDR such as %r" % (self.name, self.example_cidr)))
        import netaddr  # pylint: disable=import-outside-toplevel  # slow path only
        try:
            net = netaddr.IPNetwork(value, version=self.version)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise PlanError("%s: %r is not a valid %s CIDR; write it as network/prefix, e.g. "
                            "%r" % (what, value, self.name, self.example_cidr)) from None
        value_int = int(net.ip)
        plen = net.prefixlen
        net_int = value_int & self.mask(plen)
        if net_int != value_int:
            raise PlanError("%s: %r has host bits set; did you mean '%s'?" % (
                what, value, self.cidr(net_int, plen)))
        return net_int, plen

    def overlaps(self, a_net, a_len, b_net, b_len):
        """True if two (int, prefixlen) networks of this family share any address."""
        m = self.mask(min(a_len, b_len))
        return (a_net & m) == (b_net & m)


IPV4 = Family(4, (mask, ntoa, cidr, fast_cidr),
              ("a dotted quad such as '192.0.2.10'", "10.244.0.0/16", "10.96.0.0/12"))
IPV6 = Family(6, (mask6, ntoa6, cidr6, fast_cidr6),
              ("one such as '2001:db8::10'", "fd00:10:244::/56", "fd00:10:96::/112"))
FAMILIES = (IPV4, IPV6)


def family_of(text):
    """The family a CIDR or address text looks like (IPv6 when it holds a colon)."""
    return IPV6 if isinstance(text, str) and ":" in text else IPV4


def parse_address(value, what, family=IPV4, elsewhere=None):
    """Parse an address of ``family`` (IPv4 by default; no prefix). ``what`` names the culprit."""
    return family.parse_address(value, what, elsewhere)


def parse_cidr(value, what, family=IPV4, elsewhere=None):
    """Parse a strict CIDR of ``family`` (IPv4 by default; no host bits) -> (int, prefixlen)."""
    return family.parse_cidr(value, what, elsewhere)


def overlaps(a_net, a_len, b_net, b_len, family=IPV4):
    """True if two (int, prefixlen) networks of ``family`` share any address."""
    m = family.mask(min(a_len, b_len))
    return (a_net & m) == (b_net & m)
