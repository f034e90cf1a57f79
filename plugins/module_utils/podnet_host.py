# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every podnet host module shares: one command runner (check mode, C locale),
atomic persistence of files, the one boot unit that replays every concern, diffs.

A module is read -> plan -> apply: it reads live state through `CommandRunner.read`,
computes a pure plan (unit-tested without a host), then applies it through
`CommandRunner.change` and `persist_file`, which record every action and obey check
mode. Nothing here knows about a particular concern.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import glob
import json
import os
import re
import tempfile

# The link alias (ifalias) podnet gives every link it creates: the mark that tells
# podnet's links from links of the same name that someone else made.
OWNER_MARK = "podnet-owned"

# One boot unit replays every concern's persisted state, in the order of the step files'
# names (NN-concern.sh): the bridge before the overlay before the routes before the
# firewall. Each concern's module writes (or removes) only its own step file.
BOOT_DIR = "/etc/podnet/boot.d"
BOOT_UNIT = "podnet.service"
SYSTEMD_DIR = "/etc/systemd/system"
BOOT_UNIT_PATH = SYSTEMD_DIR + "/" + BOOT_UNIT
BOOT_WANTS_PATH = SYSTEMD_DIR + "/multi-user.target.wants/" + BOOT_UNIT

BOOT_UNIT_CONTENT = """\
#
# Ansible managed: written by podnet's host modules; edits by hand are overwritten.
#
# Replays the pod network podnet persisted under /etc/podnet at boot: every step of
# /etc/podnet/boot.d in name order (bridge, overlay, routes, firewall). Each step is
# idempotent and touches only what podnet made. A failing step is reported and the
# others still run. Restarting nftables.service flushes the ruleset, so this unit is
# part of it and replays (podnet's table included) whenever nftables restarts.
[Unit]
Description=podnet pod network (replays /etc/podnet/boot.d)
Documentation=file:///etc/podnet/boot.d
Wants=network-online.target
After=network-online.target nftables.service
Before=docker.service containerd.service kubelet.service
PartOf=nftables.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'rc=0; for step in /etc/podnet/boot.d/*.sh; do [ -e "$step" ] || continue; \\
  /bin/sh -e "$step" || { echo "podnet: boot step $step failed" >&2; rc=1; }; done; exit $rc'

[Install]
WantedBy=multi-user.target
"""

# Every command podnet runs speaks English and prints plain numbers: the module parses it.
C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C", "LANGUAGE": "C"}


def managed_header(module_name):
    """The ansible_managed-style comment that opens every file podnet writes."""
    return (
        "#\n# Ansible managed: written by podnet's %s module from the declared state;\n"
        "# edits by hand are detected and overwritten on the next run.\n#\n" % module_name
    )


class CommandRunner:
    """Run host commands: reads always, changes only outside check mode.

    Every change (run or, in check mode, that would run) is recorded in `actions`, in
    order, as the command line a person would type. `read` returns parsed JSON for tools
    that print it (ip -json, nft -j) or text; a missing object (no such device, no such
    table) reads as None instead of failing."""

    MISSING = ("does not exist", "Cannot find device", "No such file or directory")

    def __init__(self, module, actions=None):
        self.module = module
        self.bins = {}
        self.actions = [] if actions is None else actions

    def bin(self, tool, required=True):
        if tool not in self.bins:
            self.bins[tool] = self.module.get_bin_path(tool, required=required)
        return self.bins[tool]

    def _run(self, argv, data=None):
        return self.module.run_command(argv, data=data, environ_update=C_LOCALE)

    def read(self, tool, args, json_flag=None, missing=MISSING):
        """Run a read-only command. With JSON_FLAG (e.g. "-json", "-j") it is put before
        ARGS and the output parsed. Returns None when the error names a missing object."""
        argv = [self.bin(tool)] + ([json_flag] if json_flag else []) + list(args)
        rc, out, err = self._run(argv)
        if rc != 0:
            if any(text in err for text in missing):
                return None
            self.module.fail_json(msg="'%s %s' failed: %s" % (tool, " ".join(args), err.strip()))
        if not json_flag:
            return out
        return json.loads(out) if out.strip() else []

    def change(self, tool, args, data=None, shown=None):
        """Run a changing command, or only record it in check mode. SHOWN replaces the
        recorded command line (e.g. to hide data fed on stdin)."""
        self.actions.append(shown or "%s %s" % (tool, " ".join(args)))
        if self.module.check_mode:
            return ""
        rc, out, err = self._run([self.bin(tool)] + list(args), data=data)
        if rc != 0:
            self.module.fail_json(
                msg="'%s %s' failed: %s" % (tool, " ".join(args), err.strip()), actions=self.actions
            )
        return out


def read_text(module, path):
    """The content of PATH, or None when it does not exist (any other error fails)."""
    if not path:
        return None
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if exc.errno != errno.ENOENT:
            module.fail_json(msg="cannot read %s: %s" % (path, exc))
        return None


def podnet_wrote(content):
    """Whether a file's text carries podnet's mark: a comment line naming podnet (every
    file podnet writes opens with one, managed_header). A file at one of podnet's paths
    without it is someone else's (flanneld's subnet.env, say): podnet leaves it alone."""
    return any(line.lstrip().startswith("#") and "podnet" in line
               for line in (content or "").splitlines())


# How podnet marks its nftables table, `table inet podnet` (older versions wrote the
# comment "podnet <digest>"): a table of that name without it is someone else's.
NFT_OWNER_COMMENT = re.compile(r'^\s*comment "podnet[: ]', re.M)


def owns_nft_table(listing):
    """Whether a live `nft list table inet podnet` listing carries podnet's mark."""
    return bool(NFT_OWNER_COMMENT.search(listing or ""))


def foreign_nft_table_error(listing):
    """The message that stops a run on a node whose table inet podnet is not podnet's."""
    if listing is None or owns_nft_table(listing):
        return None
    return ("a table inet podnet exists that podnet did not make (it lacks podnet's comment "
            "\"podnet: ...\"); podnet neither replaces nor deletes it. Rename or delete it "
            "(nft list table inet podnet shows it), then run again")


def _fs_args(module, path, mode):
    return module.load_file_common_arguments(dict(path=path, mode=mode, owner="root", group="root"))


def ensure_directory(module, directory, actions, mode="0755"):
    """Create DIRECTORY (root:root MODE, parents too) when missing; fix its attributes."""
    if not os.path.isdir(directory):
        actions.append("mkdir -p -m %s %s" % (mode, directory))
        if module.check_mode:
            return
        try:
            os.makedirs(directory, int(mode, 8))
        except OSError as exc:
            module.fail_json(msg="cannot create %s: %s" % (directory, exc), actions=actions)
    if module.set_fs_attributes_if_different(_fs_args(module, directory, mode), False):
        actions.append("chown root:root %s && chmod %s %s" % (directory, mode, directory))


def replace_file(path, content, mode, uid=-1, gid=-1):
    """Write CONTENT to PATH with MODE (an int), owned UID:GID (-1 keeps the writer's). The
    temporary file is born with its final mode and owner, beside its target, and renamed
    over it: never a moment with a wider mode (atomic_move gives a new file the umask's
    0644 first) and never a half-written file. Raises OSError, leaving nothing behind."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".%s." % os.path.basename(path))
    try:
        os.fchmod(fd, mode)
        os.fchown(fd, uid, gid)
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        os.rename(tmp, path)
    except (IOError, OSError):
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_atomically(module, path, content, mode, uid, gid, actions):
    """replace_file for a module: a failure fails the module with ACTIONS so far."""
    try:
        replace_file(path, content, mode, uid, gid)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot write %s: %s" % (path, exc), actions=actions)


def persist_file(module, path, content, actions, diffs, mode="0644", secret=False):
    """Keep PATH (root:root MODE, in a root:root 0755 directory) holding CONTENT, or
    remove it when CONTENT is None. Writes atomically and only when the content (or an
    attribute) differs; in check mode only reports. Records every change in ACTIONS and
    a file diff in DIFFS (never the content of a SECRET file). Returns True on change."""
    current = read_text(module, path)
    count = len(actions)
    if content is None:
        if current is None:
            return False
        actions.append("rm %s" % path)
        if not secret:
            diffs.append(dict(before_header=path, after_header=path, before=current, after=""))
        if not module.check_mode:
            try:
                os.unlink(path)
            except OSError as exc:
                module.fail_json(msg="cannot remove %s: %s" % (path, exc), actions=actions)
        return True

    directory = os.path.dirname(path) or "."
    ensure_directory(module, directory, actions)
    if current != content:
        actions.append("write %s" % path)
        if not secret:
            diffs.append(dict(before_header=path, after_header=path, before=current or "", after=content))
        if not module.check_mode:
            write_atomically(module, path, content, int(mode, 8), 0, 0, actions)
    if os.path.exists(path) and module.set_fs_attributes_if_different(_fs_args(module, path, mode), False):
        actions.append("chown root:root %s && chmod %s %s" % (path, mode, path))
    return len(actions) > count


def boot_step_path(order, concern):
    """/etc/podnet/boot.d/NN-concern.sh: the name orders the replay."""
    return "%s/%02d-%s.sh" % (BOOT_DIR, int(order), concern)


def boot_step(module, order, concern, script, actions, diffs):
    """Keep this concern's boot step (a /bin/sh -e script replayed by podnet.service) or
    remove it (SCRIPT None), then keep the unit installed exactly while a step exists.
    Never starts or stops anything: the module has already converged the live state."""
    path = boot_step_path(order, concern)
    content = None
    if script is not None:
        content = managed_header(concern) + script.rstrip("\n") + "\n"
    persist_file(module, path, content, actions, diffs)
    sync_boot_unit(module, actions, diffs, pending={path: content})


def _steps_after(pending):
    """Names of the step files that exist once PENDING ({path: content or None}) is
    applied: in check mode nothing was written, so the answer is computed."""
    try:
        steps = set(os.path.join(BOOT_DIR, n) for n in os.listdir(BOOT_DIR) if n.endswith(".sh"))
    except OSError:
        steps = set()
    for path, content in (pending or {}).items():
        if content is None:
            steps.discard(path)
        else:
            steps.add(path)
    return steps


def sync_boot_unit(module, actions, diffs, pending=None):
    """podnet.service is installed, enabled and active while any boot step exists, and
    removed (with /etc/podnet/boot.d) when the last one is gone. systemd reloads its units
    only where systemd runs and the unit file changed."""
    wanted = bool(_steps_after(pending))
    changed = persist_file(module, BOOT_UNIT_PATH, BOOT_UNIT_CONTENT if wanted else None, actions, diffs)
    link = os.path.islink(BOOT_WANTS_PATH) and os.readlink(BOOT_WANTS_PATH) == BOOT_UNIT_PATH
    if wanted and not link:
        ensure_directory(module, os.path.dirname(BOOT_WANTS_PATH), actions)
        actions.append("ln -sf %s %s" % (BOOT_UNIT_PATH, BOOT_WANTS_PATH))
        if not module.check_mode:
            if os.path.lexists(BOOT_WANTS_PATH):
                os.unlink(BOOT_WANTS_PATH)
            os.symlink(BOOT_UNIT_PATH, BOOT_WANTS_PATH)
    elif not wanted and os.path.lexists(BOOT_WANTS_PATH):
        actions.append("rm %s" % BOOT_WANTS_PATH)
        if not module.check_mode:
            os.unlink(BOOT_WANTS_PATH)
    if not wanted:
        # In check mode the removed step is still there: count it as gone.
        removed = set(path for path, content in (pending or {}).items() if content is None)
        remove_emptied_directory(module, BOOT_DIR, actions, removed)
    if changed:
        daemon_reload(module, actions)
    if wanted:
        ensure_boot_unit_active(module, actions)


def ensure_boot_unit_active(module, actions):
    """Start podnet.service once, where systemd runs, so that it is active from the first
    run on (not only after a reboot): a restart of nftables.service (which flushes the
    ruleset) is propagated only to an active unit, which then replays podnet's steps. The
    start replays the steps written so far; each is idempotent."""
    if not os.path.isdir("/run/systemd/system"):
        return
    runner = CommandRunner(module, actions)
    if read_unit(runner, BOOT_UNIT).get("ActiveState") != "active":
        runner.change("systemctl", ["start", BOOT_UNIT])


def retire_unit(module, unit, actions, diffs):
    """Remove a unit file an older podnet installed per concern (podnet-bridge.service,
    ...) now that podnet.service replays every concern. Its ExecStop is never run: the
    live state it would tear down is still wanted."""
    path = SYSTEMD_DIR + "/" + unit
    wants = SYSTEMD_DIR + "/multi-user.target.wants/" + unit
    if os.path.lexists(wants):
        actions.append("rm %s" % wants)
        if not module.check_mode:
            os.unlink(wants)
    if persist_file(module, path, None, actions, diffs):
        daemon_reload(module, actions)


def daemon_reload(module, actions):
    """systemctl daemon-reload, only where systemd is the running init."""
    if not os.path.isdir("/run/systemd/system"):
        return
    CommandRunner(module, actions).change("systemctl", ["daemon-reload"])


def live_diff(diffs, name, before, after):
    """Record a before/after diff of live state (JSON, keys sorted) under NAME."""
    diffs.append(dict(
        before_header="%s (live)" % name, after_header="%s (live)" % name,
        before=json.dumps(before, indent=2, sort_keys=True) + "\n",
        after=json.dumps(after, indent=2, sort_keys=True) + "\n",
    ))


def finish(module, actions, diffs, **result):
    """exit_json with changed = any action, and the diffs when --diff asked for them."""
    result["changed"] = bool(actions)
    result["actions"] = actions
    if module._diff and diffs:
        result["diff"] = diffs
    module.exit_json(**result)


def read_bytes(module, path):
    """(exact bytes, permission bits) of PATH, or (None, None) when it does not exist:
    for files given back byte for byte (read_text folds line ends)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(), os.fstat(handle.fileno()).st_mode & 0o7777
    except (IOError, OSError) as exc:
        if exc.errno != errno.ENOENT:
            module.fail_json(msg="cannot read %s: %s" % (path, exc))
        return None, None


def read_unit(runner, unit):
    """{"LoadState", "UnitFileState", "ActiveState"} of a systemd UNIT, read with
    `systemctl show` (an unknown unit reads LoadState=not-found, never fails)."""
    out = runner.read("systemctl", ["show", "--property=LoadState,UnitFileState,ActiveState", unit])
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def remove_emptied_directory(module, directory, actions, gone):
    """Remove DIRECTORY when nothing is left in it once the paths in GONE (a set of paths
    this run removed, or in check mode would remove) are gone; add it to GONE when it goes,
    so a parent listed after it can go too. Someone else's file keeps the directory.
    Truthful in check mode, where the removed files are still there."""
    try:
        if not os.path.isdir(directory) or os.path.islink(directory):
            return False
        left = [n for n in os.listdir(directory) if os.path.join(directory, n) not in gone]
        if left:
            return False
        actions.append("rmdir %s" % directory)
        if not module.check_mode:
            os.rmdir(directory)
    except OSError as exc:
        module.fail_json(msg="cannot remove %s: %s" % (directory, exc), actions=actions)
    gone.add(directory)
    return True


def as_int(value):
    """VALUE as an int when it is one or a string of digits (as Jinja may pass a number),
    else None; a bool is never an int here. For checks whose message names the variable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isdigit() and text.isascii() else None


# What ansible's boolean(strict=True) accepts (module_utils.parsing.convert_bool), so a
# value means the same to a module and to the node agent, which runs without Ansible.
BOOLEANS_TRUE = frozenset(("y", "yes", "on", "1", "true", "t", 1, 1.0, True))
BOOLEANS_FALSE = frozenset(("n", "no", "off", "0", "false", "f", 0, 0.0, False))


def as_bool(value):
    """VALUE as a bool when it is one of the booleans Ansible accepts (case-insensitive
    text, 1/0, True/False), else None. For checks whose message names the variable."""
    if isinstance(value, bool):
        return value
    key = value.lower().strip() if isinstance(value, str) else value
    try:
        if key in BOOLEANS_TRUE:
            return True
        if key in BOOLEANS_FALSE:
            return False
    except TypeError:  # unhashable (a list, a dict)
        return None
    return None


# --- route protocols: which numbers podnet may claim -----------------------------------
# The kernel's own route protocols (linux/rtnetlink.h): values up to RTPROT_STATIC are
# interpreted by the kernel or by `ip route` itself ("boot" is what `ip route add` sets
# without proto, "static" what administrators use). Podnet deletes every route of its
# protocols that it did not declare, so it may never claim one of these.
KERNEL_PROTOCOLS = {0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static"}
PROTOCOL_MIN = 5
PROTOCOL_MAX = 255
# Where iproute2 names route protocols: /etc (Debian 12's iproute2 6.1) or /usr/share
# (iproute2 6.5 and later), each with its rt_protos.d drop-ins.
PROTO_FILES = ("/etc/iproute2/rt_protos", "/usr/share/iproute2/rt_protos")
PROTO_DIRS = ("/etc/iproute2/rt_protos.d", "/usr/share/iproute2/rt_protos.d")


def parse_rt_protos(texts):
    """{number: name} from the text of rt_protos files (``NUMBER NAME`` lines, # comments)."""
    names = {}
    for text in texts:
        for line in (text or "").splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) >= 2:
                try:
                    number = int(words[0], 0)
                except ValueError:
                    continue
                names.setdefault(number, words[1])
    return names


def read_named_protocols(module, own=None):
    """{number: name} the host's rt_protos files give, podnet's own file OWN left out."""
    paths = list(PROTO_FILES)
    for directory in PROTO_DIRS:
        paths += sorted(p for p in glob.glob(directory + "/*.conf") if p != own)
    return parse_rt_protos(read_text(module, path) for path in paths)


def check_route_protocol(protocol, named, variable, default):
    """The error message for a route protocol podnet must not claim, or None. NAMED maps
    numbers to the names the host's rt_protos files give them; a name of podnet's own
    (podnet, podnet-...) is podnet's. VARIABLE and DEFAULT: the role variable to name."""
    named = named or {}
    if isinstance(protocol, bool) or not isinstance(protocol, int) or not PROTOCOL_MIN <= protocol <= PROTOCOL_MAX:
        if isinstance(protocol, int) and protocol in KERNEL_PROTOCOLS:
            return (
                "%s=%d is the kernel's own route protocol %r (0-4 are unspec, redirect, kernel, "
                "boot, static): podnet deletes every route of its protocol it did not declare, so "
                "it would delete the host's own routes. Pick a number from %d to %d that nothing "
                "else on the host uses (default %d)."
                % (variable, protocol, KERNEL_PROTOCOLS[protocol], PROTOCOL_MIN, PROTOCOL_MAX, default)
            )
        return (
            "%s=%r is not a route protocol number: pick one from %d to %d that nothing else on "
            "the host uses (default %d)." % (variable, protocol, PROTOCOL_MIN, PROTOCOL_MAX, default)
        )
    name = named.get(protocol)
    if name and name != "podnet" and not name.startswith("podnet-"):
        return (
            "%s=%d is route protocol %r on this host (iproute2's rt_protos): podnet deletes every "
            "route of its protocol it did not declare, so it would delete %s's routes. Pick a "
            "number from %d to %d that rt_protos does not name (default %d)."
            % (variable, protocol, name, name, PROTOCOL_MIN, PROTOCOL_MAX, default)
        )
    return None


# ---------------------------------------------------------------- IPv6 on a link

def parse_ipv6_addresses(addrs):
    """The global IPv6 addresses (host/prefix) in `ip -json -6 addr show dev NAME`; the
    kernel's link-local fe80::/64 is never podnet's."""
    found = []
    for entry in addrs or []:
        for addr in entry.get("addr_info", []):
            if addr.get("family") == "inet6" and addr.get("scope") != "link":
                found.append("%s/%s" % (addr["local"], addr["prefixlen"]))
    return found


def read_ipv6_addresses(runner, name):
    return parse_ipv6_addresses(runner.read("ip", ["-6", "addr", "show", "dev", name], json_flag="-json"))


def disable_ipv6_path(name):
    """A link's own disable_ipv6 switch (1 where the host's default disables IPv6 on new
    links, as in a container Docker started with IPv6 off by default). Shared by the
    concerns that give a link of theirs an IPv6 address (bridge, WireGuard)."""
    return "/proc/sys/net/ipv6/conf/%s/disable_ipv6" % name


def read_disable_ipv6(module, name):
    """'1' or '0' for link NAME, or None when IPv6 is absent there."""
    text = read_text(module, disable_ipv6_path(name))
    return text.strip() if text is not None else None


def write_proc(module, path, value, actions):
    """Write VALUE to the /proc/sys file PATH (recorded as the sysctl a person would type:
    dotted, or with slashes where a name holds a dot, e.g. the device flannel.1)."""
    key = path[len("/proc/sys/"):]
    actions.append("sysctl -w %s=%s" % (key if "." in key else key.replace("/", "."), value))
    if module.check_mode:
        return
    try:
        with open(path, "w") as handle:
            handle.write(value)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot write %s to %s: %s (is /proc/sys read-only, or IPv6 disabled "
                             "in this kernel?)" % (value, path, str(exc)), actions=actions)
