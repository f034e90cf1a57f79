# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd mode of podnet's node agent: watch the node's slice in etcd, don't poll.

The plan run publishes each agent node's slice at ``<prefix>/podnet/agent/<host>``
(``{"generation", "digest", "slice"}``, role podnet_registry). The agent watches that key
with its own client certificate (CN ``podnet-agent-<host>``, whose etcd role reads that key
only) through ``etcdctl watch -w json`` (Debian's etcd-client, installed by role
podnet_agent). etcd's JSON gateway would need no etcdctl, but it ignores a client
certificate's CN (etcd 3.2+, CVE-2018-16886), so it would need a password per node.

When a newer generation than the slice file's appears, the watcher writes the slice file
atomically (the node's own settings kept) and wakes the agent's loop, which converges every
concern for real with the new slice: that is the controller's plan, not a repair, so it
happens whether repair is on or not. A generation that is not newer is never applied.

Each interval the watcher also reads the key once (a liveness check that catches an event
it could have missed); when etcd does not answer it stops the watch and tries again with a
backoff (1 s doubling to 30 s), while the agent's checks go on against the slice it has.
It writes its own metrics file, ``podnet_agent_watch.prom``, beside the agent's.

Standard library only; the pure parts (parse etcdctl's JSON, pick the newest generation,
decide, merge the document) are unit-tested from recorded etcdctl output.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import select
import subprocess
import threading
import time

from ansible_collections.podnet.network.plugins.module_utils.podnet_host import replace_file

METRICS_FILE = "podnet_agent_watch.prom"
BACKOFF_MAX = 30.0
ETCDCTL = "/usr/bin/etcdctl"


# --- pure: what etcdctl says, what to do about it ------------------------------------------

def _document(kv):
    """The published document of one etcd kv (base64 value), or None when it is not one."""
    try:
        value = json.loads(base64.b64decode(kv.get("value") or "").decode("utf-8"))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("generation"), int) \
            or not isinstance(value.get("slice"), dict):
        return None
    return value


def parse_get(text):
    """``etcdctl get KEY -w json`` -> (revision, document or None)."""
    answer = json.loads(text)
    revision = int((answer.get("header") or {}).get("revision") or 0)
    kvs = answer.get("kvs") or []
    return revision, (_document(kvs[0]) if kvs else None)


def parse_watch(line):
    """One line of ``etcdctl watch KEY -w json`` -> [document or None (a deletion)], in the
    order etcd sent them; [] for a line that carries no event."""
    try:
        answer = json.loads(line)
    except ValueError:
        return []
    if not isinstance(answer, dict):
        return []
    documents = []
    for event in answer.get("Events") or answer.get("events") or []:
        kv = event.get("kv") or {}
        deleted = event.get("type") in (1, "DELETE")
        documents.append(None if deleted else _document(kv))
    return documents


def newest(documents):
    """The document of the highest generation among DOCUMENTS (None entries ignored)."""
    found = [d for d in documents if d is not None]
    return max(found, key=lambda d: d["generation"]) if found else None


def decide(published, local_generation):
    """Pure: True when PUBLISHED (a document, or None) is a newer slice than the file's
    LOCAL_GENERATION (None: no readable slice file) and must be converged."""
    if published is None:
        return False
    return local_generation is None or published["generation"] > local_generation


def merged_text(local_document, published):
    """The slice file's new text: the published slice and generation, the node's settings
    (the same layout the module podnet_agent_slice writes, so the next run keeps it)."""
    settings = (local_document or {}).get("settings") or {}
    document = {"generation": int(published["generation"]), "digest": published.get("digest"),
                "settings": settings, "slice": published["slice"]}
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def etcdctl_argv(etcd, *args):
    """etcdctl's command line for the watcher's settings ETCD (endpoints, cacert, cert, key_file)."""
    return [ETCDCTL, "--endpoints=%s" % ",".join(etcd["endpoints"]), "--cacert=%s" % etcd["cacert"],
            "--cert=%s" % etcd["cert"], "--key=%s" % etcd["key_file"], "--dial-timeout=3s",
            "--command-timeout=5s"] + list(args)


def backoff(failures):
    """Seconds to wait after FAILURES failed attempts in a row: 1, 2, 4 ... at most 30."""
    return min(BACKOFF_MAX, 2.0 ** max(0, failures - 1))


def render_metrics(state, enabled):
    """Pure: the watch's Prometheus text (STATE: connected, last_event, last_contact,
    generation, reconnects)."""
    lines = []

    def metric(name, kind, helptext, value):
        lines.extend(["# HELP %s %s" % (name, helptext), "# TYPE %s %s" % (name, kind),
                      "%s %s" % (name, repr(float(value)) if isinstance(value, float) else int(value))])

    metric("podnet_agent_watch_enabled", "gauge", "1 when the agent watches its slice in etcd (etcd mode).",
           int(enabled))
    metric("podnet_agent_watch_connected", "gauge",
           "1 while the watch of the node's slice key is established and etcd answered the last read.",
           int(bool(state["connected"])))
    metric("podnet_agent_watch_last_event_timestamp_seconds", "gauge",
           "When the last new generation of the slice arrived from etcd (0: none since the start).",
           float(state["last_event"]))
    metric("podnet_agent_watch_last_contact_timestamp_seconds", "gauge",
           "When etcd last answered the watcher (an event or a read).", float(state["last_contact"]))
    metric("podnet_agent_watch_generation", "gauge", "Generation of the slice published in etcd.",
           int(state["generation"]))
    metric("podnet_agent_watch_reconnects_total", "counter",
           "Times the watch was lost and set up again since the agent started.", int(state["reconnects"]))
    return "\n".join(lines) + "\n"


# --- the watcher ---------------------------------------------------------------------------

def _read_document(path):
    try:
        with open(path) as handle:
            document = json.load(handle)
    except (OSError, IOError, ValueError):
        return None
    return document if isinstance(document, dict) else None


class Watcher(threading.Thread):
    """Watches the slice key named by the slice file's settings (``settings.etcd``); idle
    while there is none. ``wait(seconds)`` sleeps until the next check or a new slice;
    ``converge_new(apply)`` runs APPLY(slice) once for each new slice written."""

    def __init__(self, slice_path, log):
        super(Watcher, self).__init__(name="podnet-agent-watch")
        self.daemon = True
        self.slice_path = slice_path
        self.log = log
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.new_slice = False
        self.state = {"connected": False, "last_event": 0.0, "last_contact": 0.0, "generation": 0,
                      "reconnects": 0}
        self.failures = 0

    # called from the agent's loop
    def wait(self, seconds):
        self.wake.wait(seconds)
        self.wake.clear()

    def converge_new(self, apply):
        """When the watcher wrote a new slice: APPLY(slice document) (converge every concern)."""
        with self.lock:
            pending, self.new_slice = self.new_slice, False
        if pending:
            document = _read_document(self.slice_path)
            if document is not None:
                self.log("podnet-agent: generation %s of the slice came from etcd: converging every concern"
                         % document.get("generation"))
                apply(document)

    # the thread
    def _settings(self):
        document = _read_document(self.slice_path) or {}
        settings = document.get("settings") or {}
        return document, settings.get("etcd") or None, float(settings.get("interval") or 30), \
            settings.get("metrics_dir") or "/var/lib/prometheus/node-exporter"

    def _metrics(self, etcd, metrics_dir):
        try:
            if os.path.isdir(metrics_dir):
                replace_file(os.path.join(metrics_dir, METRICS_FILE),
                             render_metrics(self.state, etcd is not None), 0o644)
        except OSError as exc:
            self.log("podnet-agent: cannot write the watch metrics: %s" % exc)

    def offer(self, published):
        """Write PUBLISHED into the slice file when it is newer than the file's generation."""
        if published is None:
            return
        self.state["generation"] = published["generation"]
        local = _read_document(self.slice_path)
        if not decide(published, (local or {}).get("generation") if local else None):
            return
        replace_file(self.slice_path, merged_text(local, published), 0o644)
        self.state["last_event"] = time.time()
        self.log("podnet-agent: etcd published generation %s of the slice (the file had %s)"
                 % (published["generation"], (local or {}).get("generation")))
        with self.lock:
            self.new_slice = True
        self.wake.set()

    def _get(self, etcd):
        proc = subprocess.run(etcdctl_argv(etcd, "get", etcd["key"], "-w", "json"), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, check=False, timeout=15)
        if proc.returncode != 0:
            raise OSError((proc.stderr or proc.stdout).strip() or "etcdctl get failed")
        revision, document = parse_get(proc.stdout)
        self.state["connected"] = True
        self.state["last_contact"] = time.time()
        return revision, document

    def _lost(self, etcd, metrics_dir, why):
        if self.state["connected"] or self.failures == 0:
            # etcdctl's last line says why (its JSON log lines before it, how it retried)
            lines = [line for line in str(why).splitlines() if line.strip()] or ["?"]
            self.log("podnet-agent: etcd watch lost: %s (trying again, at most every %d s)"
                     % (lines[-1].strip(), BACKOFF_MAX))
        self.state["connected"] = False
        self.failures += 1
        self._metrics(etcd, metrics_dir)
        time.sleep(backoff(self.failures))

    def run(self):
        while True:
            try:
                self._once()
            except Exception as exc:  # pylint: disable=broad-except
                # The thread must outlive anything (a full disk, a bad file): the checks go on.
                self.state["connected"] = False
                self.log("podnet-agent: etcd watch failed: %s: %s" % (type(exc).__name__, exc))
                time.sleep(BACKOFF_MAX)

    def _once(self):
        """One round: read the key, then follow it until the watch or etcd is lost."""
        dummy, etcd, interval, metrics_dir = self._settings()
        if not etcd:  # not etcd mode (yet): nothing to watch, no metrics file
            self.state["connected"] = False
            time.sleep(interval)
            return
        try:
            revision, document = self._get(etcd)
            self.offer(document)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            self._lost(etcd, metrics_dir, exc)
            return
        if self.failures:
            self.state["reconnects"] += 1
            self.log("podnet-agent: etcd watch set up again at revision %d" % revision)
        self.failures = 0
        self._metrics(etcd, metrics_dir)
        self._watch(etcd, revision, interval, metrics_dir)

    def _watch(self, etcd, revision, interval, metrics_dir):
        """Follow the key from REVISION + 1 until the watch or a liveness read fails."""
        proc = subprocess.Popen(etcdctl_argv(etcd, "watch", etcd["key"], "--rev=%d" % (revision + 1), "-w", "json"),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        buffered = b""
        try:
            deadline = time.monotonic() + interval
            while True:
                left = deadline - time.monotonic()
                if left > 0 and select.select([proc.stdout], [], [], left)[0]:
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if not chunk:
                        self._lost(etcd, metrics_dir, "etcdctl watch ended (exit %s)" % proc.wait())
                        return
                    buffered += chunk
                    while b"\n" in buffered:
                        line, buffered = buffered.split(b"\n", 1)
                        text = line.decode("utf-8", "replace").strip()
                        if not text:
                            continue
                        if not text.startswith("{"):
                            self.log("podnet-agent: etcdctl watch: %s" % text)
                            continue
                        self.state["last_contact"] = time.time()
                        self.offer(newest(parse_watch(text)))
                        self._metrics(etcd, metrics_dir)
                    continue
                # Every interval: a read of the key proves etcd still answers (a watch whose
                # endpoints are all gone waits silently) and catches a missed event.
                try:
                    dummy, document = self._get(etcd)
                    self.offer(document)
                except (OSError, ValueError, subprocess.SubprocessError) as exc:
                    self._lost(etcd, metrics_dir, exc)
                    return
                self._metrics(etcd, metrics_dir)
                deadline = time.monotonic() + interval
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()


def start(slice_path, log):
    """The watcher thread, started (idle while the slice file names no etcd)."""
    watcher = Watcher(slice_path, log)
    watcher.start()
    return watcher
