"""Certificates for trying TLS on one machine: a local CA and a server certificate.

``ticker dev-certs DIR`` uses this to make what ``config/examples/production.toml``
needs on a laptop: a CA of its own (trusted by nobody but the clients you
point at it), a certificate signed by it for ``localhost``, ``127.0.0.1``
and ``::1``, and an RSA key pair standing in for an identity provider's JWT
key. Pure: PEM bytes out, the clock passed in; the CLI writes the files.

The certificates follow what strict verifiers ask for (Python's
``VERIFY_X509_STRICT``, browsers): a CA with ``basicConstraints`` critical
and ``keyCertSign``, a leaf with subject alternative names, ``serverAuth``,
and key identifiers on both. ECDSA P-256 keys: small, fast, accepted
everywhere. For development only: never trust such a CA system-wide.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: The names the server certificate is good for.
HOSTS = ("localhost", "127.0.0.1", "::1")
CA_DAYS = 3650
#: Under the 398 days browsers accept for a server certificate.
SERVER_DAYS = 397


@dataclass(frozen=True, slots=True)
class DevCerts:
    """PEM files: ``ca`` (give it to clients), ``server`` + ``server_key`` (the server's
    ``tls.cert_file`` and ``tls.key_file``), ``jwt_public`` + ``jwt_private`` (the JWT
    verification key of ``auth.jwt.key_file``, and the key to sign test tokens with).
    The CA's own key is not kept: nothing else can ever be signed by this CA."""

    ca: bytes
    server: bytes
    server_key: bytes = field(repr=False)
    jwt_public: bytes
    jwt_private: bytes = field(repr=False)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ticker development"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _private_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    """Signatures (ECDSA) and, for the CA, signing certificates and CRLs."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def make_dev_certs(now: dt.datetime, *, hosts: tuple[str, ...] = HOSTS) -> DevCerts:
    """A new CA, a server certificate for ``hosts`` signed by it, and a JWT key pair."""
    start = now - dt.timedelta(hours=1)  # some slack for clocks a little behind
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"ticker development CA {now:%Y-%m-%d %H:%M:%S}")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    server = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    jwt_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = serialization.Encoding.PEM
    return DevCerts(
        ca=ca.public_bytes(pem),
        server=server.public_bytes(pem),
        server_key=_private_pem(key),
        jwt_public=jwt_key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo),
        jwt_private=_private_pem(jwt_key),
    )
