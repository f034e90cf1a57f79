# SPDX-License-Identifier: GPL-3.0-or-later
"""The etcd restore: a snapshot file checked as `etcdctl snapshot restore` checks it
(module_utils/podnet_etcd.snapshot_problem, module podnet_etcd_snapshot_check), and module
podnet_etcd_restore run as Ansible runs it, with a stand-in etcdctl."""

import hashlib
import os
import pwd
import stat
import struct

from ansible_collections.podnet.network.tests.unit.role_modules import load_module_utils, run_module

etcd = load_module_utils("podnet_etcd")


def database(pages=4, page_size=4096, magic=0xED0CDAED, version=2):
    """A stand-in bbolt file: a meta page header and magic, zeros for the rest."""
    return (bytes(16) + struct.pack("<II", magic, version)).ljust(pages * page_size, b"\0")


def snapshot(tmp_path, body=None, trailer=None, name="podnet-etcd.db"):
    body = database() if body is None else body
    path = tmp_path / name
    path.write_bytes(body + (hashlib.sha256(body).digest() if trailer is None else trailer))
    return path


def test_a_saved_snapshot_passes(tmp_path):
    assert etcd.snapshot_problem(str(snapshot(tmp_path))) is None


def test_a_missing_or_odd_file_is_named(tmp_path):
    assert etcd.snapshot_problem(str(tmp_path / "nope.db")) == "%s does not exist" % (tmp_path / "nope.db")
    assert "is not a regular file" in etcd.snapshot_problem(str(tmp_path))
    unreadable = snapshot(tmp_path)
    os.chmod(unreadable, 0)
    if os.geteuid() != 0:  # root reads it anyway
        assert etcd.snapshot_problem(str(unreadable)).startswith("cannot read %s" % unreadable)


def test_a_truncated_snapshot_is_refused(tmp_path):
    path = snapshot(tmp_path)
    whole = path.read_bytes()
    for size in (0, 100, len(whole) - 1, len(whole) - 32, 4096 + 32 - 512):
        path.write_bytes(whole[:size])
        assert "is not an etcd snapshot" in etcd.snapshot_problem(str(path)), size


def test_another_file_of_the_right_size_is_refused(tmp_path):
    for body in (database(magic=0x12345678), database(version=1), b"ledger: {}\n".ljust(16384, b" ")):
        assert "holds no etcd (bbolt) database" in etcd.snapshot_problem(str(snapshot(tmp_path, body)))


def test_a_damaged_snapshot_is_refused(tmp_path):
    body = bytearray(database())
    good = hashlib.sha256(bytes(body)).digest()
    body[9000] = 1
    problem = etcd.snapshot_problem(str(snapshot(tmp_path, bytes(body), trailer=good)))
    assert "is damaged" in problem and "SHA-256" in problem


def test_the_check_module_names_the_file_and_changes_nothing(tmp_path):
    good = snapshot(tmp_path)
    result = run_module("podnet_etcd_snapshot_check", {"path": str(good)}, check_mode=False)
    assert not result.get("failed") and result["changed"] is False and result["size"] == 16384 + 32
    result = run_module("podnet_etcd_snapshot_check", {"path": str(tmp_path / "x.db")}, check_mode=False)
    assert result["failed"] and result["msg"] == "podnet_etcd: %s does not exist. Nothing was changed." % (
        tmp_path / "x.db")


# A stand-in `etcdctl snapshot restore`: records its arguments and creates <data-dir>/member,
# refusing an existing data directory as etcdctl does.
ETCDCTL = """#!/bin/sh
echo "$@" > "$(dirname "$0")/args"
while [ $# -gt 0 ]; do [ "$1" = --data-dir ] && dir=$2; shift; done
[ -e "$dir" ] && { echo "data-dir \\"$dir\\" exists" >&2; exit 1; }
mkdir -p "$dir/member/snap" "$dir/member/wal" && echo db > "$dir/member/snap/db"
"""


def restore_args(tmp_path, **extra):
    args = {"snapshot": str(snapshot(tmp_path)), "data_dir": str(tmp_path / "data"), "name": "node1",
            "initial_cluster": "node1=https://192.0.2.11:2380,node2=https://192.0.2.12:2380",
            "peer_url": "https://192.0.2.11:2380", "cluster_token": "podnet",
            "owner": pwd.getpwuid(os.getuid()).pw_name}
    args.update(extra)
    return args


def stand_in(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "etcdctl"
    tool.write_text(ETCDCTL)
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def test_restore_fills_an_empty_data_directory_and_reports_it(tmp_path):
    bin_dir = stand_in(tmp_path)
    (tmp_path / "data").mkdir(mode=0o700)  # what the role creates
    args = restore_args(tmp_path)
    planned = run_module("podnet_etcd_restore", args, check_mode=True, path_first=bin_dir)
    assert planned["changed"] and not (bin_dir / "args").exists() and not (tmp_path / "data" / "member").exists()
    done = run_module("podnet_etcd_restore", args, check_mode=False, path_first=bin_dir)
    assert not done.get("failed"), done
    assert done["changed"] and done["actions"] == planned["actions"]
    assert (bin_dir / "args").read_text().split() == [
        "snapshot", "restore", args["snapshot"], "--name", "node1", "--initial-cluster", args["initial_cluster"],
        "--initial-cluster-token", "podnet", "--initial-advertise-peer-urls", "https://192.0.2.11:2380",
        "--data-dir", str(tmp_path / "data.restore")]
    assert (tmp_path / "data" / "member" / "snap" / "db").read_text() == "db\n"
    assert not (tmp_path / "data.restore").exists()


def test_restore_refuses_a_member_with_data_and_a_bad_snapshot_changing_nothing(tmp_path):
    bin_dir = stand_in(tmp_path)
    (tmp_path / "data" / "member").mkdir(parents=True)
    for check_mode in (True, False):
        result = run_module("podnet_etcd_restore", restore_args(tmp_path), check_mode=check_mode, path_first=bin_dir)
        assert result["failed"] and not result["changed"]
        assert "node1 already holds etcd data" in result["msg"] and "playbooks/reset.yml" in result["msg"]
    (tmp_path / "data" / "member").rmdir()
    bad = snapshot(tmp_path, trailer=bytes(32), name="bad.db")
    result = run_module("podnet_etcd_restore", restore_args(tmp_path, snapshot=str(bad)), check_mode=False,
                        path_first=bin_dir)
    assert result["failed"] and not result["changed"]
    assert "is damaged" in result["msg"] and "Nothing was changed" in result["msg"]
    assert not (bin_dir / "args").exists() and not (tmp_path / "data" / "member").exists()
