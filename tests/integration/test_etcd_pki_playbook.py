# SPDX-License-Identifier: GPL-3.0-or-later
"""Role podnet_etcd's guards and its controller PKI, run for real with ansible-playbook.

The one "member" is the controller itself (ansible_connection=local) and every path is a
scratch directory: the play runs the role's preflight (which reads the member, and stops a
run before anything is changed) and its `pki` entry point (the CA and every certificate on
the controller). Nothing is installed and no etcd runs.
"""

import datetime
import re
import shutil

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.podnet.network.tests.integration.test_plan_safety import REACHABLE, run

MEMBERS = ["m1"]  # one member: every kind of certificate, at a third of the run time
PLAYBOOK = """
- name: Test | the etcd role's preflight and PKI on the controller
  hosts: podnet_etcd
  gather_facts: false
  vars:
    podnet_etcd_members: "{{ groups['podnet_etcd'] }}"
  tasks:
    - name: Test | preflight
      ansible.builtin.import_role:
        name: podnet_etcd
        tasks_from: preflight
    - name: Test | PKI
      ansible.builtin.import_role:
        name: podnet_etcd
        tasks_from: pki
    - name: Test | days left (playbooks/verify.yml)
      ansible.builtin.import_role:
        name: podnet_etcd
        tasks_from: expiry
"""


def setup(tmp_path, **extra):
    hosts = {}
    for index, name in enumerate(MEMBERS):
        hosts[name] = dict(REACHABLE, podnet_etcd_address="127.0.0.%d" % (index + 1),
                           podnet_etcd_data_dir=str(tmp_path / name / "data"),
                           podnet_etcd_member_pki_dir=str(tmp_path / name / "pki"))
    group_vars = dict(podnet_etcd_pki_dir=str(tmp_path / "controller-pki"),
                      podnet_etcd_flanneld_clients=["m1"])
    group_vars.update(extra)
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump({"podnet_etcd": {"hosts": hosts, "vars": group_vars}}))
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    return path


def play(tmp_path, *args):
    return run(tmp_path / "hosts.yml", *args, playbook=str(tmp_path / "play.yml"))


def changed(out):
    return sum(int(n) for n in re.findall(r"changed=(\d+)", out.split("PLAY RECAP")[-1]))


def cert(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def not_after(certificate):
    return certificate.not_valid_after_utc


def certificates(pki):
    return {p.name: cert(p) for p in sorted(pki.glob("*.crt")) if p.name != "ca.crt"}


def reissue(pki, name, days):
    """Replace <pki>/<name>.crt by one of the same CA, key and subject that ends in DAYS."""
    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), None)
    old, ca = cert(pki / ("%s.crt" % name)), cert(pki / "ca.crt")
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(old.subject).issuer_name(ca.subject)
               .public_key(old.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=days)))
    for extension in old.extensions:  # all of them: the same certificate but for its end
        builder = builder.add_extension(extension.value, extension.critical)
    new = builder.sign(ca_key, hashes.SHA256())
    (pki / ("%s.crt" % name)).write_bytes(new.public_bytes(serialization.Encoding.PEM))
    return new


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    """A PKI issued once (the module's tests copy it instead of issuing their own)."""
    tmp_path = tmp_path_factory.mktemp("pki")
    setup(tmp_path)
    rc, out = play(tmp_path)
    assert rc == 0, out
    return tmp_path, out


def test_a_second_run_changes_nothing_and_says_the_days_left(issued):
    tmp_path, dummy = issued
    rc, out = play(tmp_path)
    assert rc == 0 and changed(out) == 0, out
    assert re.search(r"ca: 36\d\d days left", out) and re.search(r"m1-peer: 1[78]\d\d days left", out), out


def test_a_swapped_ca_key_stops_the_run_before_anything_is_issued(issued, tmp_path):
    # before: the CSR of the CA followed the new key and a new CA was self-signed
    shutil.copytree(issued[0] / "controller-pki", tmp_path / "controller-pki")
    setup(tmp_path)
    pki = tmp_path / "controller-pki"
    ca_before = (pki / "ca.crt").read_bytes()
    other = ec.generate_private_key(ec.SECP256R1())
    (pki / "ca.key").write_bytes(other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    rc, out = play(tmp_path)
    text = " ".join(out.split())
    assert rc != 0, out
    assert re.search(r"controller-pki/ca\.key does not match \S*controller-pki/ca\.crt", text), out
    assert "docs/etcd-pki.md" in text, out
    assert (pki / "ca.crt").read_bytes() == ca_before
    assert changed(out) == 0, out


def test_a_certificate_near_its_end_is_reissued_and_check_mode_says_so(issued, tmp_path):
    # before: x509_certificate ignored timestamps, so a certificate was never renewed
    shutil.copytree(issued[0] / "controller-pki", tmp_path / "controller-pki")
    setup(tmp_path)
    pki = tmp_path / "controller-pki"
    short = reissue(pki, "client", 10)
    rc, out = play(tmp_path, "--check")
    assert rc == 0 and changed(out) >= 1, out
    assert not_after(cert(pki / "client.crt")) == not_after(short)  # check mode wrote nothing
    rc, out = play(tmp_path)
    assert rc == 0, out
    now = datetime.datetime.now(datetime.timezone.utc)
    assert not_after(cert(pki / "client.crt")) > now + datetime.timedelta(days=300), out


def test_no_certificate_outlives_the_ca(tmp_path):
    # before: every certificate got +1825 days, also when the CA ended sooner
    setup(tmp_path, podnet_etcd_ca_days=400)
    rc, out = play(tmp_path)
    assert rc == 0, out
    pki = tmp_path / "controller-pki"
    ca_end = not_after(cert(pki / "ca.crt"))
    issued_now = certificates(pki)
    assert len(issued_now) == 1 + 1 + 2 * len(MEMBERS)
    for name, certificate in issued_now.items():
        assert not_after(certificate) <= ca_end, name

def test_lifetimes_are_staggered(issued):
    days = {not_after(c).date() for c in certificates(issued[0] / "controller-pki").values()}
    assert len(days) > 1, days


def test_a_changed_data_dir_under_a_running_member_stops_the_run(tmp_path):
    # before: the member looked new (no <data_dir>/member), and the run rolled it into an empty
    # directory (member remove + add), then every other member in turn
    setup(tmp_path)
    old = tmp_path / "m1" / "old"
    (old / "member" / "snap").mkdir(parents=True)
    dropin = tmp_path / "podnet.conf"
    dropin.write_text('[Service]\nEnvironment="ETCD_NAME=m1"\nEnvironment="ETCD_DATA_DIR=%s"\n' % old)
    rc, out = play(tmp_path, "-e", "__podnet_etcd_dropin=%s" % dropin)
    text = " ".join(out.split())
    assert rc != 0, out
    assert "podnet_etcd_data_dir of m1 is %s" % (tmp_path / "m1" / "data") in text, out
    assert "runs on the data in %s" % old in text and "mv %s" % old in text, out
    assert changed(out) == 0 and not (tmp_path / "controller-pki").exists(), out
