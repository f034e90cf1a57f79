# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: podnet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find, lock, read and write podnet's ledger file on the controller.

An action plugin because the ledger lives next to the inventory on the controller:
nothing here runs on a managed host. Documentation: ../modules/podnet_plan_ledger.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import yaml
from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.podnet.network.plugins.plugin_utils.planner import ledger_commit
from ansible_collections.podnet.network.plugins.plugin_utils.planner.errors import PlanError
from ansible_collections.podnet.network.plugins.plugin_utils.planner.host_view import fleet_table
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


def render_ledger(document):
    return HEADER + yaml.safe_dump(ledger_commit.plain(document), default_flow_style=False, sort_keys=True,
                                   indent=2)


def write_atomically(path, text, check_mode=False):
    """Replace PATH by TEXT in one rename (fsynced, mode 0644) unless check mode."""
    if check_mode:
        return
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".podnet-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
    write_atomically(path, after, check_mode)
    return True, before, after


def _read_text(path):
    """A file's text, or None when it does not exist; errors name the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError("cannot read %s: %s; fix its permissions or restore it from version "
                          "control" % (path, exc)) from exc


def write_plan(path, document, check_mode=False):
    """Write the committed plan atomically when its content differs; returns changed."""
    after = json.dumps(document, indent=1, sort_keys=True) + "\n"
    if _read_text(path) == after:
        return False
    write_atomically(path, after, check_mode)
    return True


def read_committed(ledger_file):
    """(the committed plan document, the ledger's text) of an apply-only run: no lock."""
    path = ledger_commit.plan_path(ledger_file)
    text = _read_text(path)
    if text is None:
        raise LedgerError(
            "apply-only run: there is no committed plan %s for the ledger %s. Nothing was changed. "
            "Plan first (ansible-playbook playbooks/plan.yml, or site.yml without --limit), then "
            "apply again" % (path, ledger_file))
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise LedgerError("the committed plan %s is not valid JSON (%s); restore it from version "
                          "control or plan again (ansible-playbook playbooks/plan.yml)" % (path, exc)) from None
    return path, document, _read_text(ledger_file)


class ActionModule(ActionBase):
    """podnet_plan_ledger: locate + lock + read, or write, the ledger file; or check the
    ledger read from the etcd registry."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("path", "sources", "content", "lock", "registry_kvs", "registry_prefix",
                             "plan", "hosts", "network", "apply", "sliced", "rolling",
                             "max_fail_percentage", "probe_peers", "probe_timeout", "reported"))

    @staticmethod
    def _declared(args, task_vars):
        """What the inventory declares for the plan (planner.ledger_commit.declared)."""
        hostvars = task_vars.get("hostvars") or {}
        hosts = [str(host) for host in args.get("hosts") or []]
        names = [name for name, dummy in ledger_commit.DECLARED]
        host_vars = {}
        for host in hosts:
            hvars = hostvars[host]  # each lookup gathers the host's variables: once per host
            host_vars[host] = {name: hvars.get(name) for name in names}
        return ledger_commit.declared(hosts, host_vars, args.get("network") or {})

    def _apply(self, args, task_vars, result):
        """Apply-only: the committed plan, checked against this inventory, as facts."""
        if (args.get("network") or {}).get("registry") == "etcd":
            raise LedgerError(
                "apply-only runs read the plan committed beside a ledger file; in etcd mode "
                "(podnet_plan_registry: etcd) run site.yml on the whole fleet, or pass "
                "-e podnet_apply_only=false to plan in this run")
        ledger_file = ledger_path(args.get("path"), args.get("sources") or [])
        path, document, ledger_text = read_committed(ledger_file)
        try:
            plan = ledger_commit.check_committed(document, self._declared(args, task_vars), ledger_text,
                                                 path, ledger_file, boolean(args.get("sliced") or False))
            facts = {"podnet_plan_result": plan, "podnet_plan_table": fleet_table(plan), "podnet_plan_ask": [],
                     "podnet_plan_network": plan.get("network") or {},
                     "podnet_plan_wireguard": ledger_commit.wireguard_used(plan),
                     "podnet_plan_ledger_file": ledger_file, "podnet_plan_apply_only": True,
                     "podnet_plan_committed_file": path}
            if args.get("rolling") not in (None, ""):
                in_run = list(task_vars.get("ansible_play_hosts_all") or [])
                facts["podnet_plan_roll"] = ledger_commit.roll(
                    plan, in_run, args["rolling"], args.get("max_fail_percentage", 0),
                    args.get("probe_peers", 3), args.get("probe_timeout", 10))
        except PlanError as exc:
            raise LedgerError(str(exc)) from None
        result.update(changed=False, path=ledger_file, plan_path=path, ansible_facts=facts)
        return result

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
            if args.get("reported") is not None:
                # Apply-only, after the facts step: what the nodes hold, against the plan.
                plan = (task_vars.get("hostvars") or {})["localhost"]["podnet_plan_result"]
                ledger_commit.check_reported(plan, args["reported"])
                result["changed"] = False
                return result
            if boolean(args.get("apply") or False):
                return self._apply(args, task_vars, result)
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
            if args.get("plan") is not None:
                # The plan beside the ledger it was made with: apply-only runs read it.
                document = ledger_commit.committed(args["plan"], self._declared(args, task_vars), after)
                result["plan_path"] = ledger_commit.plan_path(path)
                changed = write_plan(result["plan_path"], document, self._task.check_mode) or changed
        except PlanError as exc:
            raise AnsibleActionFail("podnet: %s" % exc) from None
        except LedgerError as exc:
            raise AnsibleActionFail("podnet ledger: %s" % exc) from None
        result["changed"] = changed
        if self._task.diff and changed:
            result["diff"] = {"before": before, "after": after,
                              "before_header": path, "after_header": path}
        return result
