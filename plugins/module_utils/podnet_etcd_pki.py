# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lifecycle of podnet's etcd certificates, decided on the controller (pure functions).

`inspect` reads the CA and the certificates of role podnet_etcd's PKI directory and says,
per certificate, how many days it has left, whether the next run must re-issue it and with
which end date: a certificate is re-issued when less than the threshold of its life is left
(and a new one would end later), when it outlives the CA or was not issued by it; a new one
ends at most at the CA's end, staggered by a few days per certificate name so that the
certificates of one cluster do not all expire (and renew) on the same day.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import os

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_CRYPTOGRAPHY = False

ASN1 = "%Y%m%d%H%M%SZ"
DAY = datetime.timedelta(days=1)


class PKIError(Exception):
    """A state of the PKI directory no run may go on from."""


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _end(certificate):
    end = getattr(certificate, "not_valid_after_utc", None)
    if end is None:  # cryptography < 42
        end = certificate.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return end


def _spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def signed_by(certificate, ca):
    """Whether CA's key signed CERTIFICATE (and CA's subject is its issuer)."""
    if certificate.issuer != ca.subject:
        return False
    key = ca.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(certificate.signature, certificate.tbs_certificate_bytes,
                       ec.ECDSA(certificate.signature_hash_algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(certificate.signature, certificate.tbs_certificate_bytes, padding.PKCS1v15(),
                       certificate.signature_hash_algorithm)
        else:
            return True  # another key type: trust the issuer name
    except InvalidSignature:
        return False
    return True


def days_left(end, now):
    return int((end - now).total_seconds() // 86400)


def stagger(name, stagger_days):
    """Days taken off a certificate's lifetime: stable per name, 0..stagger_days."""
    if stagger_days <= 0:
        return 0
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % (stagger_days + 1)


def issue_end(name, now, ca_end, cert_days, stagger_days):
    """The end of a certificate NAME issued NOW: CERT_DAYS less its stagger, never after the CA."""
    return min(now + (cert_days - stagger(name, stagger_days)) * DAY, ca_end)


def verdict(name, certificate, ca, ca_end, now, cert_days, renew_days, stagger_days):
    """``{present, days_left, not_after, renew, reason, issue_not_after}`` of one certificate
    (CERTIFICATE: the parsed one or None)."""
    new_end = issue_end(name, now, ca_end, cert_days, stagger_days)
    result = {"present": certificate is not None, "days_left": None, "not_after": None, "renew": False,
              "reason": "", "issue_not_after": new_end.strftime(ASN1)}
    if certificate is None:
        result["reason"] = "missing"
        return result
    end = _end(certificate)
    left = days_left(end, now)
    result["days_left"] = left
    result["not_after"] = end.strftime(ASN1)
    if ca is not None and not signed_by(certificate, ca):
        result["renew"], result["reason"] = True, "not issued by the CA"
    elif end > ca_end:
        result["renew"], result["reason"] = True, "ends after the CA (%s)" % ca_end.strftime(ASN1)
    elif (end - now) < renew_days * DAY and new_end - end > DAY:
        result["renew"] = True
        result["reason"] = "%d days left, under the threshold of %d" % (left, renew_days)
    return result


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def load_certificate(path):
    data = _read(path)
    if data is None:
        return None
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise PKIError("%s is not a PEM certificate (%s): restore it from your backup or delete it, "
                       "and it is issued again" % (path, exc))


def check_ca(directory):
    """The CA certificate of DIRECTORY (None when there is none yet), after checking that
    ca.key is the key of ca.crt: a swapped key would otherwise make the next run sign a new CA."""
    key_path, cert_path = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.crt")
    ca = load_certificate(cert_path)
    key_data = _read(key_path)
    if ca is None or key_data is None:
        return ca
    try:
        key = serialization.load_pem_private_key(key_data, None)
    except (ValueError, TypeError) as exc:
        raise PKIError("%s cannot be read as an unencrypted PEM private key (%s)" % (key_path, exc))
    if _spki(key.public_key()) != _spki(ca.public_key()):
        raise PKIError(
            "%s does not match %s (it is not the key of that CA certificate). Nothing was issued or "
            "changed: with this key the run would sign a new CA and lock the members out of each "
            "other. Restore the CA's own key from your backup, or re-key the cluster as "
            "docs/etcd-pki.md describes." % (key_path, cert_path))
    return ca


def inspect(directory, names, cert_days, ca_days, renew_days, stagger_days, ca_warn_days, now=None):
    """What the next run must do with the PKI in DIRECTORY (see the module's RETURN)."""
    now = now or utc_now()
    ca = check_ca(directory)
    ca_end = _end(ca) if ca is not None else now + ca_days * DAY
    result = {
        "ca": {"present": ca is not None, "days_left": days_left(ca_end, now) if ca is not None else None,
               "not_after": ca_end.strftime(ASN1) if ca is not None else None,
               "near_end": ca is not None and (ca_end - now) < ca_warn_days * DAY},
        "certificates": {},
    }
    for name in sorted(set(names)):
        certificate = load_certificate(os.path.join(directory, "%s.crt" % name))
        result["certificates"][name] = verdict(name, certificate, ca, ca_end, now, cert_days, renew_days,
                                               stagger_days)
    result["renew"] = sorted(n for n, v in result["certificates"].items() if v["renew"])
    lines = []
    if ca is not None:
        lines.append("ca: %d days left (until %s)" % (result["ca"]["days_left"], ca_end.strftime("%Y-%m-%d")))
    for name, item in sorted(result["certificates"].items()):
        if not item["present"]:
            lines.append("%s: not issued yet" % name)
        else:
            note = " -> re-issue (%s)" % item["reason"] if item["renew"] else ""
            lines.append("%s: %d days left%s" % (name, item["days_left"], note))
    result["lines"] = lines
    return result
