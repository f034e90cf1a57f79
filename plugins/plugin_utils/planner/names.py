# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One rule per kind of name podnet writes onto a host, and how it is quoted there.

podnet writes names into shell boot steps, systemd units, config files and paths it may
delete later. Each kind has one rule, here, checked once before any host is contacted:
the planner checks what the plan carries (device names, hostnames, the cluster CIDR);
``role_inputs`` (filter ``podnet_role_inputs``) checks the roles' own knobs, from the
first play (the nodes' inventory values) and from each role's preflight.

- device names: 1-15 of ``[A-Za-z0-9_.-]``, not ``.`` or ``..`` (what Linux accepts, and
  nothing a shell or ``ip`` would read as syntax);
- hostnames: RFC 1123 (dot-separated labels of letters, digits and ``-``, 1-63 each, not
  starting or ending with ``-``; 253 characters in all);
- paths podnet may delete: absolute, normalised, of ``[A-Za-z0-9._+@/-]``, at least two
  levels deep and never a system directory;
- values rendered into units and config lines: no newline or other control character;
- etcd key prefixes: absolute, of ``[A-Za-z0-9._/-]``, without ``.``/``..`` components.

Every error names the variable, the bad value and the fix. ``systemd_quote`` (filter
``podnet_systemd_quote``) quotes a value for a unit's ``ExecStart=`` or ``Environment=``.
Warnings (advice, not errors) are ``PlanWarning``: the filter entries show them as
Ansible warnings, plain Python callers see them through the ``warnings`` module.
"""

import posixpath
import re
import unicodedata
import warnings

from .errors import PlanError
from .addresses import parse_address

DEVICE = re.compile(r"[A-Za-z0-9_.-]{1,15}")
LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
MAX_HOSTNAME = 253
PATH = re.compile(r"/[A-Za-z0-9._+@/-]*")
KEY_PREFIX = re.compile(r"/[A-Za-z0-9._/-]*")

# Directories podnet must never delete (nor files directly in the top level): what the
# system, its packages and other software keep there. podnet deletes only its own paths
# (reset deletes the etcd data and PKI directories, flanneld's binary, flannel's subnet file).
SYSTEM_DIRS = frozenset((
    "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media",
    "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var",
    "/etc/ansible", "/etc/ansible/facts.d", "/etc/default", "/etc/etcd", "/etc/network",
    "/etc/podnet", "/etc/ssl", "/etc/systemd", "/etc/systemd/system", "/etc/tmpfiles.d",
    "/run/flannel", "/run/systemd", "/run/systemd/system",
    "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/libexec", "/usr/local", "/usr/local/bin",
    "/usr/local/sbin", "/usr/local/lib", "/usr/share", "/usr/include", "/usr/src",
    "/var/backups", "/var/cache", "/var/lib", "/var/lib/apt", "/var/lib/dpkg", "/var/lib/etcd",
    "/var/lib/docker", "/var/log", "/var/mail", "/var/opt", "/var/run", "/var/spool", "/var/tmp",
))
# Trees podnet never writes into at all (kernel and device file systems, the boot loader's).
SYSTEM_TREES = ("/boot/", "/dev/", "/proc/", "/sys/")

PRIVATE_RANGES = (("10.0.0.0", 8), ("172.16.0.0", 12), ("192.168.0.0", 16))
SHARED_RANGES = (("100.64.0.0", 10),)


class PlanWarning(UserWarning):
    """Advice about an input that plans but is probably not what the operator meant."""


def warn(text):
    """Surface TEXT as a warning of the run (the filter entries show PlanWarning)."""
    warnings.warn(text, PlanWarning, stacklevel=3)


def control_characters(value):
    """The control characters (newline, carriage return, NUL, ...) in VALUE, as reprs."""
    return sorted(set(repr(c) for c in str(value) if unicodedata.category(c) == "Cc"
                      or c in "\u2028\u2029"))


def device_name(value, what, fix):
    """A Linux link name podnet writes into boot steps and ``ip`` commands, or PlanError."""
    if not isinstance(value, str) or not DEVICE.fullmatch(value) or value in (".", ".."):
        raise PlanError("%s: %r is not a valid Linux interface name: give 1-15 characters of "
                        "[A-Za-z0-9_.-], not '.' or '..' (no spaces, quotes, ';', '$', '/' or ':'); "
                        "%s" % (what, value, fix))
    return value


def hostname_problem(value):
    """Why VALUE is not an RFC 1123 hostname, or None."""
    if not isinstance(value, str) or not value:
        return "it is empty or not a string"
    if len(value) > MAX_HOSTNAME:
        return "it is %d characters long (at most %d)" % (len(value), MAX_HOSTNAME)
    for label in value.split("."):
        if not LABEL.fullmatch(label):
            return ("label %r is not 1-63 letters, digits or '-' starting and ending with a "
                    "letter or digit" % label)
    return None


def hostname(value, what):
    """An inventory hostname podnet writes into key paths, units and comments, or PlanError."""
    problem = hostname_problem(value)
    if problem:
        raise PlanError("%s: %r is not an RFC 1123 hostname (%s); podnet writes it into unit "
                        "files, key paths and comments on the hosts, so rename the host in the "
                        "inventory (dot-separated labels of letters, digits and '-', e.g. "
                        "node-1 or node-1.dc1; set ansible_host for its address)" % (what, value, problem))
    return value


def line_value(value, what, fix):
    """A value rendered into one line of a unit or config file: no control characters."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PlanError("%s: %r is not a string; %s" % (what, value, fix))
    bad = control_characters(value)
    if bad:
        raise PlanError("%s: %r holds %s (a newline or other control character would start a "
                        "new line in the unit or config file it is written to); %s" % (
                            what, value, ", ".join(bad), fix))
    return value


def path_problem(value):
    """Why VALUE is not a path podnet may delete, or None."""
    if not isinstance(value, str) or not value:
        return "it is empty"
    if not value.startswith("/"):
        return "it is not absolute"
    if posixpath.normpath(value) != value or value.startswith("//"):
        return "it is not normalised (no '..', '.', '//' or trailing '/')"
    if not PATH.fullmatch(value):
        return "it holds characters other than [A-Za-z0-9._+@/-]"
    if value.count("/") < 2:
        return "it is '/' or a top-level directory"
    if value in SYSTEM_DIRS or value.startswith(SYSTEM_TREES):
        return "it is a system directory"
    return None


def deletable_path(value, what, default):
    """A path podnet creates and may delete (reset), or PlanError."""
    problem = path_problem(value)
    if problem:
        raise PlanError("%s: %r cannot be podnet's own path, which podnet deletes on reset: %s; "
                        "give an absolute, normalised path of podnet's own below a system "
                        "directory (default %s)" % (what, value, problem, default))
    return value


def key_prefix(value, what, default):
    """An etcd key prefix, written into flanneld's command line and etcdctl calls."""
    parts = str(value).strip("/").split("/") if isinstance(value, str) else []
    if (not isinstance(value, str) or not KEY_PREFIX.fullmatch(value)
            or "" in parts[:-1] or "." in parts or ".." in parts):
        raise PlanError("%s: %r is not an etcd key prefix: give an absolute key of "
                        "[A-Za-z0-9._/-] without '.', '..' or '//' (default %s)" % (what, value, default))
    return value


def _args(value, what, default):
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise PlanError("%s: %r is not a list of arguments; give one list item per argument, "
                        "e.g. %s" % (what, value, default))
    for item in value:
        line_value(item, what, "give each argument on its own, without newlines, e.g. ['-v=2']")
    return value


def _token(value, what, default):
    if value in ("", None):
        raise PlanError("%s: the token is empty; give a word that keeps this cluster's "
                        "bootstrap apart from any other (default %s)" % (what, default))
    return line_value(value, what, "give a token without newlines (default %s)" % default)


# The roles' knobs podnet writes onto hosts: variable -> (its rule, its default for the message).
KNOBS = {
    "inventory_hostname": (lambda v, w, d: hostname(v, w), None),
    "podnet_etcd_data_dir": (deletable_path, "/var/lib/etcd/podnet"),
    "podnet_etcd_member_pki_dir": (deletable_path, "/etc/etcd/podnet-pki"),
    "podnet_etcd_cluster_token": (_token, "podnet"),
    "podnet_flannel_bin": (deletable_path, "/usr/local/bin/flanneld"),
    "podnet_flannel_etcd_prefix": (key_prefix, "/coreos.com/network"),
    "podnet_flannel_extra_args": (_args, "['-v=2']"),
    "podnet_flannel_env_path": (deletable_path, "/run/flannel/subnet.env"),
    "podnet_registry_prefix": (key_prefix, "/coreos.com/network"),
}


def role_inputs(values):
    """Check the roles' knobs ``{variable: value}`` (see KNOBS); returns them unchanged.

    Raises one PlanError naming every bad variable, its value and the fix."""
    if not isinstance(values, dict):
        raise PlanError("role inputs: expected {variable: value}, got %r" % (values,))
    problems = []
    for name in sorted(values):
        if name not in KNOBS:
            problems.append("%s: podnet has no rule for this variable (known: %s)" % (
                name, ", ".join(sorted(KNOBS))))
            continue
        rule, default = KNOBS[name]
        try:
            rule(values[name], name, default)
        except PlanError as exc:
            problems.append(str(exc))
    if problems:
        raise PlanError("; ".join(problems))
    return values


def systemd_quote(value, environment=False):
    """VALUE as one double-quoted word of a systemd unit line.

    For ``ExecStart=`` (default) ``$`` is doubled too (systemd expands ``$VAR`` there);
    ``environment`` quotes a whole ``Environment=`` assignment ``NAME=value``, where
    systemd expands only ``%`` specifiers. Control characters are refused: no quoting
    keeps a newline from ending the line."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PlanError("systemd_quote: %r is not a string" % (value,))
    line_value(value, "systemd_quote", "remove it from the value")
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    if not environment:
        text = text.replace("$", "$$")
    return '"%s"' % text


def _within(net, plen, base, blen):
    return plen >= blen and (net >> (32 - blen)) == (parse_address(base, "range") >> (32 - blen))


def cluster_range(net, plen, text):
    """The cluster CIDR's rule: /8 or longer (error), private or shared space (warning)."""
    if plen < 8:
        raise PlanError("network.cluster_cidr: %s is a /%d; a cluster CIDR must be a /8 or longer "
                        "(every node accepts forwarding to and from the whole cluster CIDR, so a "
                        "shorter one would open the firewall to most of the Internet); set "
                        "podnet_plan_cluster_cidr to a private range, e.g. 10.244.0.0/16" % (text, plen))
    if not any(_within(net, plen, base, blen) for base, blen in PRIVATE_RANGES + SHARED_RANGES):
        warn("network.cluster_cidr: %s lies outside the private ranges (10.0.0.0/8, 172.16.0.0/12, "
             "192.168.0.0/16) and the shared range (100.64.0.0/10): pods would hide the public "
             "addresses it covers from every node; unless you own that space, set "
             "podnet_plan_cluster_cidr to a private range, e.g. 10.244.0.0/16" % text)
