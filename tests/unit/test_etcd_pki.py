# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/podnet_etcd_pki.py: which etcd certificates a run re-issues, and until when."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ansible_collections.podnet.network.tests.unit.role_modules import load_module_utils

pki = load_module_utils("podnet_etcd_pki")
NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def sign(subject, key, issuer, issuer_key, days, start=NOW - DAY):
    return (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(NOW + days * DAY)
            .sign(issuer_key, hashes.SHA256()))


def pem(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture
def directory(tmp_path):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ca.key").write_bytes(pem(ca_key))
    (tmp_path / "ca.crt").write_bytes(pem(sign("podnet etcd CA", ca_key, "podnet etcd CA", ca_key, 1000)))
    key = ec.generate_private_key(ec.SECP256R1())
    for cert, days in (("fresh", 900), ("old", 10), ("long", 1500), ("bounded", 1000)):
        (tmp_path / ("%s.crt" % cert)).write_bytes(pem(sign(cert, key, "podnet etcd CA", ca_key, days)))
    other = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "stranger.crt").write_bytes(pem(sign("stranger", key, "podnet etcd CA", other, 900)))
    return tmp_path, ca_key


def inspect(path, names, **kw):
    args = dict(cert_days=1825, ca_days=3650, renew_days=30, stagger_days=30, ca_warn_days=180, now=NOW)
    args.update(kw)
    return pki.inspect(str(path), names, **args)


def test_each_certificate_says_its_days_left_and_what_a_run_does(directory):
    path, dummy = directory
    result = inspect(path, ["fresh", "old", "long", "stranger", "missing"])
    certs = result["certificates"]
    assert certs["fresh"]["days_left"] == 900 and not certs["fresh"]["renew"]
    assert certs["old"]["renew"] and "under the threshold" in certs["old"]["reason"]
    assert certs["long"]["renew"] and "ends after the CA" in certs["long"]["reason"]
    assert certs["stranger"]["renew"] and certs["stranger"]["reason"] == "not issued by the CA"
    assert not certs["missing"]["present"] and not certs["missing"]["renew"]
    assert result["renew"] == ["long", "old", "stranger"]
    assert result["ca"]["days_left"] == 1000 and not result["ca"]["near_end"]
    assert "old: 10 days left -> re-issue (" in " ".join(result["lines"])


def test_a_new_certificate_never_outlives_the_ca_and_lifetimes_are_staggered(directory):
    path, dummy = directory
    result = inspect(path, ["a", "b", "c", "d", "e"])
    ends = {n: c["issue_not_after"] for n, c in result["certificates"].items()}
    assert all(end <= (NOW + 1000 * DAY).strftime(pki.ASN1) for end in ends.values())
    spread = inspect(path, ["a", "b", "c", "d", "e"], cert_days=365)["certificates"]
    assert len({c["issue_not_after"] for c in spread.values()}) > 1


def test_a_certificate_bounded_by_a_ca_near_its_end_is_not_reissued_every_run(directory):
    path, dummy = directory
    # "bounded" ends with the CA: under the threshold, but a new one could not live longer
    result = inspect(path, ["bounded", "fresh"], renew_days=1200)
    assert not result["certificates"]["bounded"]["renew"]
    assert result["certificates"]["fresh"]["renew"]  # 100 days more are to be had
    assert inspect(path, [], ca_warn_days=1200)["ca"]["near_end"]


def test_a_ca_key_that_is_not_the_cas_stops_before_anything_is_issued(directory):
    path, dummy = directory
    (path / "ca.key").write_bytes(pem(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(pki.PKIError, match="ca.key does not match .*ca.crt.*docs/etcd-pki.md"):
        inspect(path, ["fresh"])


def test_without_a_ca_the_bound_is_the_ca_a_run_creates(tmp_path):
    result = inspect(tmp_path, ["client"], ca_days=100)
    assert not result["ca"]["present"]
    assert result["certificates"]["client"]["issue_not_after"] <= (NOW + 100 * DAY).strftime(pki.ASN1)
