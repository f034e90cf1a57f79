# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: podnet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find, lock, read and write podnet's ledger file on the controller.

An action plugin because the ledger lives next to the inventory on the controller:
nothing here runs on a managed host. Documentation: ../modules/podnet_plan_ledger.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import yaml
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.podnet.network.plugins.plugin_utils.planner.errors import PlanError
from ansible_collections.podnet.network.plugins.plugin_utils.planner.ledger_reader import (
    ledger_registry_read, read_ledger_text)

LEDGER_NAME = ".podnet-ledger"
HEADER = (
    "# podnet ledger: the pod subnet of every node, kept between runs so that nobody's\n"
    "# subnet ever moves, and the nodes that left but still hold theirs (released-pending).\n"
    "# Written by playbooks/site.yml and playbooks/reset.yml; commit it like a lock file.\n"
)

# The lock holder: a small process that takes an exclusive flock on the lock file and
# keeps it until the ansible-playbook process that asked for it has exited, so the lock
# spans the whole run (read ... write) and dies with it, even after kill -9.
_HOLDER = r"""
import fcntl, os, socket, sys, time
path, owner = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    sys.stdout.write("busy " + os.pread(fd, 512, 0).decode(errors="replace").strip() + "\n")
    sys.exit(0)
os.ftruncate(fd, 0)
os.pwrite(fd, ("pid=%d host=%s since=%s\n" % (
    owner, socket.gethostname(), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))).encode(), 0)
sys.stdout.write("ok\n")
sys.stdout.flush()
os.close(1)
while True:
    try:
        os.kill(owner, 0)
    except ProcessLookupError:
        break
    except PermissionError:
        pass
    time.sleep(0.5)
"""


class LedgerError(Exception):
    """A ledger problem, with the file and the fix in the message."""


def ledger_path(explicit, sources, cwd=None):
    """The ledger file of this inventory.

    One ledger per inventory source: ``<dir>/.podnet-ledger.yml`` for a directory
    source, ``<dir>/.podnet-ledger.<name>.yml`` for a file source ``<dir>/<name>.<ext>``
    (so prod.yml and staging.yml in one directory never share one). With several
    ``-i`` sources the first one is the fleet's own; the others only add hosts to it.
    """
    cwd = cwd or os.getcwd()
    if explicit:
        return os.path.abspath(os.path.join(cwd, str(explicit)))
    paths = [os.path.abspath(os.path.join(cwd, str(s))) for s in (sources or [])]
    paths = [p for p in paths if os.path.exists(p)]  # "host1,host2," lists are not files
    if not paths:
        raise LedgerError(
            "the inventory has no file or directory source to keep the ledger next to (got %s); "
            "set podnet_plan_ledger_path to the ledger file of this fleet" % (list(sources or []),))
    source = paths[0]
    if os.path.isdir(source):
        return os.path.join(source, LEDGER_NAME + ".yml")
    directory, name = os.path.split(source)
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    path = os.path.join(directory, "%s.%s.yml" % (LEDGER_NAME, stem))
    shared = os.path.join(directory, LEDGER_NAME + ".yml")
    if not os.path.exists(path) and os.path.exists(shared):
        raise LedgerError(
            "%s is a ledger shared by every inventory file of %s (written by an earlier podnet); "
            "this inventory's own ledger is %s. If the shared one belongs to inventory %s, rename "
            "it: mv %s %s; otherwise set podnet_plan_ledger_path for this inventory" % (
                shared, directory, path, source, shared, path))
    return path


def acquire_lock(path, owner):
    """Hold ``path``.lock for the run of process ``owner``; raise if another run has it."""
    lock = path + ".lock"
    try:
        holder = subprocess.Popen(  # noqa: S603 -- our own interpreter and script
            [sys.executable, "-c", _HOLDER, lock, str(owner)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True, text=True)
    except OSError as exc:
        raise LedgerError("cannot start the ledger lock holder for %s: %s" % (lock, exc)) from exc
    answer = (holder.stdout.readline() or "").strip()
    holder.stdout.close()
    if answer == "ok":
        return lock
    holder.wait()
    if answer.startswith("busy"):
        info = answer[4:].strip()
        if info.split(" ", 1)[0] == "pid=%d" % owner:
            return lock  # this very run holds it already (plan, then write)
        raise LedgerError(
            "another podnet run holds the ledger lock %s (%s): two runs must never interleave "
            "their allocations. Wait for it to finish; a lock of a run that died is released "
            "by itself" % (lock, info or "holder unknown"))
    raise LedgerError("cannot take the ledger lock %s: %r" % (lock, answer))


def read_ledger(path):
    """The checked ledger ({} when the file does not exist yet); errors name the file.

    The whole document is checked here (planner.ledger_reader), so no filter ever sees
    one that is not a ledger; an empty file stops the run rather than start a new ledger.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise LedgerError("cannot read the ledger %s: %s; fix its permissions (the run stops "
                          "rather than treat the fleet's allocations as empty)" % (path, exc.strerror)) from exc
    try:
        return read_ledger_text(raw, path)
    except PlanError as exc:
        raise LedgerError(str(exc)) from None


def _plain(value):
    """Plain dicts, lists and scalars (Ansible hands over its own tagged subclasses)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def render_ledger(document):
    return HEADER + yaml.safe_dump(_plain(document), default_flow_style=False, sort_keys=True,
                                   indent=2)


def write_ledger(path, document, check_mode=False):
    """Write atomically when the content differs; returns (changed, before, after)."""
    after = render_ledger(document)
    try:
        with open(path, encoding="utf-8") as handle:
            before = handle.read()
    except FileNotFoundError:
        before = ""
    if before == after:
        return False, before, after
    if not check_mode:
        directory = os.path.dirname(path) or "."
        fd, tmp = tempfile.mkstemp(prefix=".podnet-ledger.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(after)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return True, before, after


class ActionModule(ActionBase):
    """podnet_plan_ledger: locate + lock + read, or write, the ledger file; or check the
    ledger read from the etcd registry."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("path", "sources", "content", "lock", "registry_kvs", "registry_prefix"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        if args.get("registry_kvs") is not None:
            # etcd mode: the registry's ledger goes through the same reader as the file.
            try:
                result["content"] = ledger_registry_read(
                    args["registry_kvs"], args.get("registry_prefix") or "/coreos.com/network")
            except PlanError as exc:
                raise AnsibleActionFail("podnet ledger: %s" % exc) from None
            result["changed"] = False
            return result
        try:
            path = ledger_path(args.get("path"), args.get("sources") or [])
            if args.get("lock", True):
                # Workers are forked by ansible-playbook itself: our parent is the run.
                result["lock"] = acquire_lock(path, os.getppid())
            result["path"] = path
            if args.get("content") is None:
                result["ledger"] = read_ledger(path)
                result["changed"] = False
                return result
            changed, before, after = write_ledger(path, args["content"], self._task.check_mode)
        except LedgerError as exc:
            raise AnsibleActionFail("podnet ledger: %s" % exc) from None
        result["changed"] = changed
        if self._task.diff and changed:
            result["diff"] = {"before": before, "after": after,
                              "before_header": path, "after_header": path}
        return result
