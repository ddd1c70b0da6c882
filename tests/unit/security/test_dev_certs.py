"""``ticker dev-certs`` material: a CA and a server certificate that strict verifiers accept."""

import datetime as dt
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.verification import PolicyBuilder, Store

from ticker.security.dev_certs import SERVER_DAYS, make_dev_certs

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
CERTS = make_dev_certs(NOW)


@pytest.mark.parametrize(
    "name",
    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
     x509.IPAddress(ipaddress.ip_address("::1"))],
)  # fmt: skip
def test_the_server_certificate_verifies_against_the_ca_for_each_local_name(name: x509.GeneralName) -> None:
    ca, leaf = x509.load_pem_x509_certificate(CERTS.ca), x509.load_pem_x509_certificate(CERTS.server)
    verifier = PolicyBuilder().store(Store([ca])).time(NOW).build_server_verifier(name)  # type: ignore[arg-type]
    chain = verifier.verify(leaf, [])
    assert chain[-1] == ca


def test_it_does_not_verify_for_other_names_or_after_it_expires() -> None:
    ca, leaf = x509.load_pem_x509_certificate(CERTS.ca), x509.load_pem_x509_certificate(CERTS.server)
    store = Store([ca])
    with pytest.raises(x509.verification.VerificationError):
        PolicyBuilder().store(store).time(NOW).build_server_verifier(x509.DNSName("example.com")).verify(leaf, [])
    late = NOW + dt.timedelta(days=SERVER_DAYS + 1)
    with pytest.raises(x509.verification.VerificationError):
        PolicyBuilder().store(store).time(late).build_server_verifier(x509.DNSName("localhost")).verify(leaf, [])


def test_keys_match_and_the_jwt_key_is_rsa_2048() -> None:
    leaf = x509.load_pem_x509_certificate(CERTS.server)
    key = serialization.load_pem_private_key(CERTS.server_key, password=None)
    assert key.public_key().public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == leaf.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    public = serialization.load_pem_public_key(CERTS.jwt_public)
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
    assert b"PRIVATE KEY" in CERTS.jwt_private and b"PRIVATE KEY" not in CERTS.ca


def test_each_run_makes_a_new_ca() -> None:
    assert make_dev_certs(NOW).ca != CERTS.ca
