#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: podnet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merge podnet's keys into Docker's daemon.json, and give the file back on removal."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_docker_daemon
short_description: Merge podnet's settings into /etc/docker/daemon.json key by key
description:
  - With O(state=present), sets the keys of O(settings) in O(path) and keeps every other
    key of the file as it is (value and position). The file is rewritten (atomically, as
    2-space indented JSON) only when a value differs; otherwise its bytes stay untouched.
  - Before it first changes O(path), the module writes a record (O(record_path)) of the
    file's exact original bytes and mode (or that there was no file), of the values the
    file had for podnet's keys and of the values podnet set. It is written only together
    with a change of O(path).
  - A key that podnet set earlier and that is no longer in O(settings) gets its value from
    before podnet back (or is removed if the file had none), unless someone changed it
    since.
  - With O(state=absent) and no record, nothing is read or changed (podnet never managed
    this file). With a record, if O(path) still holds exactly what podnet last wrote, the
    original bytes and mode are restored byte for byte (or the file is deleted when there
    was none); if it was edited since, only podnet's keys that still hold podnet's values
    get their previous value back (or are removed), and every other edit is kept. The
    record is then deleted.
  - V(changed) means that O(path) or the record changes. The record changes only
    together with O(path), so a handler that restarts dockerd runs only when daemon.json
    changed; the one exception is O(state=absent) after O(path) was deleted, or stripped
    of podnet's keys, by hand, where only the record goes (a restart then is harmless).
    Check mode and C(--diff) report exactly what a real run would do.
  - O(path) must hold a JSON object (whitespace only counts as an empty one); anything
    else fails the task and touches nothing.
options:
  path:
    description: Docker's daemon configuration file.
    type: path
    default: /etc/docker/daemon.json
  record_path:
    description:
      - podnet's record of what O(path) held before podnet changed it (JSON, root:root
        0600, its directory created 0755 when missing).
    type: path
    default: /etc/podnet/docker-daemon.orig.json
  settings:
    description:
      - The keys podnet owns in O(path), with their values. Required when O(state=present).
    type: dict
  state:
    description:
      - V(present) merges O(settings) into O(path); V(absent) gives O(path) back as
        described above.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
author: podnet contributors
"""

EXAMPLES = r"""
- name: Docker | merge podnet's settings into /etc/docker/daemon.json
  podnet_docker_daemon:
    settings:
      bip: 10.244.1.1/24
      mtu: 1450
      ip-masq: false
      iptables: true
  notify: Docker | restart dockerd on the pod subnet

- name: Docker | give /etc/docker/daemon.json back
  podnet_docker_daemon:
    state: absent
"""

RETURN = r"""
action:
  description:
    - What happened to O(path) (or would happen, in check mode). V(none), V(merge) (podnet's
      keys written), V(restore) (original bytes back), V(delete) (there was no file before
      podnet), V(unmerge) (podnet's keys taken out of an edited file).
  returned: always
  type: str
  sample: merge
keys:
  description: The keys of O(path) whose value changes (or would change), sorted.
  returned: always
  type: list
  elements: str
  sample: ["bip", "ip-masq", "mtu"]
"""

import base64
import copy
import errno
import hashlib
import json
import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule

RECORD_VERSION = 1
NEW_FILE_MODE = 0o644


class DaemonJsonError(ValueError):
    """daemon.json (or podnet's record) cannot be read as podnet needs it."""


# --- pure functions: no file access, unit-tested in tests/unit/test_docker_daemon.py --------
def canonical(value):
    """A form in which two JSON values compare equal only when they are equal JSON
    (1 and true, 1 and 1.0 differ)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def same(left, right):
    return canonical(left) == canonical(right)


def parse(content):
    """The JSON object in CONTENT (bytes); {} for no file or whitespace only."""
    if content is None or not content.strip():
        return {}
    try:
        document = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DaemonJsonError("is not valid UTF-8 JSON (%s)" % exc)
    if not isinstance(document, dict):
        raise DaemonJsonError("holds a JSON %s, not an object" % type(document).__name__)
    return document


def render(document):
    """The bytes podnet writes: 2-space indented JSON, keys in the document's order."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def sha256(content):
    return hashlib.sha256(content).hexdigest()


def encode_original(content):
    return None if content is None else base64.b64encode(content).decode("ascii")


def decode_original(record):
    original = record.get("original")
    return None if original is None else base64.b64decode(original.encode("ascii"))


def _give_back(document, owned, previous):
    """Give every key podnet set (OWNED) that still holds podnet's value its value from
    before podnet (PREVIOUS), or remove it when it had none. Edits are kept."""
    for key in sorted(owned):
        if key in document and same(document[key], owned[key]):
            if key in previous:
                document[key] = copy.deepcopy(previous[key])
            else:
                del document[key]


def _changed_keys(before, after):
    return sorted(key for key in set(before) | set(after)
                  if key not in before or key not in after or not same(before[key], after[key]))


def plan_present(content, mode, record, settings):
    """What daemon.json and podnet's record must become so that daemon.json holds SETTINGS.

    CONTENT and MODE: the file's bytes and permission bits (None: no file). RECORD: podnet's
    record (None: none yet). Returns a dict: content, mode (None: no file), record (None:
    no record), action, keys. Nothing changes when the file already holds the settings.
    """
    current = parse(content)
    document = copy.deepcopy(current)
    owned = dict(record["settings"]) if record else {}
    previous = dict(record["previous"]) if record else {}

    # keys podnet set before and no longer sets: back to what the file had before podnet
    dropped = {key: value for key, value in owned.items() if key not in settings}
    _give_back(document, dropped, previous)
    for key in dropped:
        previous.pop(key, None)

    for key in sorted(settings):
        if key not in owned and key in document:
            previous[key] = copy.deepcopy(document[key])
        document[key] = copy.deepcopy(settings[key])

    keys = _changed_keys(current, document)
    if not keys:
        return dict(content=content, mode=mode, record=record, action="none", keys=[])
    new_content = render(document)
    if record:
        new_record = dict(record)
    else:
        new_record = dict(
            version=RECORD_VERSION,
            original=encode_original(content),
            original_mode=None if content is None else "%04o" % mode,
        )
    new_record.update(previous=previous, settings=copy.deepcopy(dict(settings)),
                      written_sha256=sha256(new_content))
    return dict(content=new_content, mode=NEW_FILE_MODE if content is None else mode,
                record=new_record, action="merge", keys=keys)


def plan_absent(content, mode, record):
    """What daemon.json must become when podnet lets go of it (arguments as plan_present).

    No record: podnet never changed the file, so nothing changes. The record always goes.
    """
    if record is None:
        return dict(content=content, mode=mode, record=None, action="none", keys=[])
    original = decode_original(record)
    original_mode = None if original is None else int(record["original_mode"], 8)
    before = parse(content)

    def back_to_original():
        action = "delete" if original is None else "restore"
        if content == original and mode == original_mode:
            action = "none"
        return dict(content=original, mode=original_mode, record=None, action=action,
                    keys=_changed_keys(before, parse(original)))

    if content is not None and sha256(content) == record.get("written_sha256"):
        return back_to_original()
    if content is None:
        # deleted by someone since podnet wrote it: that edit is kept as well
        return dict(content=None, mode=None, record=None, action="none", keys=[])

    document = copy.deepcopy(before)
    _give_back(document, record["settings"], record["previous"])
    if original is not None and same(document, parse(original)):
        return back_to_original()
    if original is None and not document:
        return back_to_original()
    if same(document, before):
        return dict(content=content, mode=mode, record=None, action="none", keys=[])
    return dict(content=render(document), mode=mode, record=None, action="unmerge",
                keys=_changed_keys(before, document))


def render_record(record):
    return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8")


def load_record(content):
    if content is None:
        return None
    try:
        record = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DaemonJsonError("is not podnet's JSON record (%s)" % exc)
    if not isinstance(record, dict) or record.get("version") != RECORD_VERSION or not all(
            isinstance(record.get(key), dict) for key in ("previous", "settings")):
        raise DaemonJsonError("is not a version %d podnet record" % RECORD_VERSION)
    return record


# --- reading and applying -----------------------------------------------------------------
def read_file(path):
    """(bytes, permission bits) of PATH, or (None, None) when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read(), stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
    except (IOError, OSError) as exc:
        if exc.errno != errno.ENOENT:
            raise
        return None, None


def write_file(path, content, mode):
    """Replace PATH by CONTENT atomically (temporary file in the same directory, fsync,
    rename); the directory is created 0755 when missing. A new file is root:root."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        try:
            st = os.stat(path)
            os.chown(tmp, st.st_uid, st.st_gid)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def remove_file(path):
    try:
        os.unlink(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise


def text(content):
    return "" if content is None else content.decode("utf-8", "replace")


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/etc/docker/daemon.json"),
            record_path=dict(type="path", default="/etc/podnet/docker-daemon.orig.json"),
            settings=dict(type="dict"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        required_if=[("state", "present", ("settings",))],
        supports_check_mode=True,
    )
    path = module.params["path"]
    record_path = module.params["record_path"]

    try:
        record_content, _ = read_file(record_path)
        record = load_record(record_content)
    except DaemonJsonError as exc:
        module.fail_json(msg="%s %s; nothing was changed" % (record_path, exc))
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read %s: %s" % (record_path, exc))

    if module.params["state"] == "absent" and record is None:
        # podnet never changed daemon.json here: do not even read it
        module.exit_json(changed=False, action="none", keys=[])

    try:
        content, mode = read_file(path)
        if module.params["state"] == "present":
            plan = plan_present(content, mode, record, module.params["settings"])
        else:
            plan = plan_absent(content, mode, record)
    except DaemonJsonError as exc:
        module.fail_json(msg="%s %s; fix or remove it, then run again (nothing was changed)"
                         % (path, exc))
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read %s: %s" % (path, exc))

    new_record = None if plan["record"] is None else render_record(plan["record"])
    file_changes = plan["content"] != content or plan["mode"] != mode
    record_changes = (plan["record"] is None) != (record is None) or (
        record is not None and not same(plan["record"], record))
    diff = []
    if file_changes:
        diff.append(dict(before_header=path, after_header=path,
                         before=text(content), after=text(plan["content"])))
    if record_changes:
        diff.append(dict(before_header=record_path, after_header=record_path,
                         before=text(record_content), after=text(new_record)))

    if not module.check_mode:
        try:
            # the record first: what was there is saved before daemon.json changes
            if record_changes and new_record is not None:
                write_file(record_path, new_record, 0o600)
            if file_changes:
                if plan["content"] is None:
                    remove_file(path)
                else:
                    write_file(path, plan["content"], plan["mode"])
            if record_changes and new_record is None:
                remove_file(record_path)
        except (IOError, OSError) as exc:
            module.fail_json(msg="cannot update %s: %s" % (path, exc), action=plan["action"])

    module.exit_json(changed=file_changes or record_changes, action=plan["action"],
                     keys=plan["keys"], diff=diff)


def main():
    run_module()


if __name__ == "__main__":
    main()
