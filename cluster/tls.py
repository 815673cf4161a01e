"""kubelab's own certificate authority and the server certificate its HTTPS port presents.

kubectl sends a bearer token only over TLS and verifies the server against the kubeconfig's
`certificate-authority-data`, as it does for a real cluster. So on first run kubelab makes a
CA and a server certificate signed by it (made with `cryptography`), stores them under
settings.TLS_DIR and reuses them after; the server certificate is made again (by the same
CA) when it no longer names every host kubelab is reached by.
"""

import datetime as dt
import fcntl
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT, CA_KEY = "ca.crt", "ca.key"
SERVER_CERT, SERVER_KEY = "server.crt", "server.key"
# The names every server certificate carries, beside the configured host (as kind's
# apiserver certificate names localhost and 127.0.0.1).
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
CA_YEARS, SERVER_YEARS = 10, 1


@dataclass(frozen=True)
class Files:
    """Where the PEM files are: what daphne's TLS endpoint and kubeconfigs read."""

    ca_cert: Path
    server_cert: Path
    server_key: Path

    def ca_pem(self):
        return self.ca_cert.read_bytes()


def ensure(directory, hosts=()):
    """The CA and server certificate under `directory`, made when missing.

    1. a CA (key and self-signed certificate) unless one is there;
    2. a server certificate for LOOPBACK_NAMES + `hosts`, signed by that CA, unless the one
       there already names all of them and was signed by this CA.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # Several processes may start at once (scale-out serves, a kubeconfig command): one at a
    # time makes or checks the files, so none ends up with a certificate of another CA.
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_locked(directory, _names([*LOOPBACK_NAMES, *hosts]))


def ca_pem(directory):
    """kubelab's CA certificate (PEM), made when missing: what a kubeconfig carries. The
    server certificate is left to `serve`, which knows the host it listens on."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_ca(directory).read_bytes()


def _ensure_ca(directory):
    ca_cert_path, ca_key_path = directory / CA_CERT, directory / CA_KEY
    if not (ca_cert_path.exists() and ca_key_path.exists()):
        key = ec.generate_private_key(ec.SECP256R1())
        _write(ca_key_path, _key_pem(key), private=True)
        _write(ca_cert_path, _ca_certificate(key).public_bytes(serialization.Encoding.PEM))
    return ca_cert_path


def _ensure_locked(directory, names):
    ca_cert_path, ca_key_path = _ensure_ca(directory), directory / CA_KEY
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
    files = Files(ca_cert_path, directory / SERVER_CERT, directory / SERVER_KEY)
    if not _server_cert_fits(files, ca_cert, names):
        key = ec.generate_private_key(ec.SECP256R1())
        _write(files.server_key, _key_pem(key), private=True)
        cert = _server_certificate(key, ca_key, ca_cert, names)
        _write(files.server_cert, cert.public_bytes(serialization.Encoding.PEM))
    return files


def _names(hosts):
    """Deduplicated SAN entries: IP addresses as IPAddress, the rest as DNSName."""
    seen, names = set(), []
    for host in hosts:
        host = (host or "").strip("[]")
        if not host or host in ("0.0.0.0", "::") or host in seen:
            continue        # a wildcard bind address is no name a client connects to
        seen.add(host)
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _ca_certificate(key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubelab-ca")])
    now = dt.datetime.now(dt.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))


def _server_certificate(key, ca_key, ca_cert, names):
    now = dt.datetime.now(dt.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubelab")]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365 * SERVER_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))


def _server_cert_fits(files, ca_cert, names):
    """Whether the stored server certificate can be kept: present, signed by this CA, not
    near its end, and naming every host asked for."""
    if not (files.server_cert.exists() and files.server_key.exists()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
        cert.verify_directly_issued_by(ca_cert)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, x509.ExtensionNotFound, x509.InvalidSignature):
        return False
    if cert.not_valid_after_utc - dt.datetime.now(dt.timezone.utc) < dt.timedelta(days=7):
        return False
    return all(name in sans for name in names)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path, data, private=False):
    """Write through a temporary file and rename, so a second process starting at the same
    time never reads half a PEM; private keys are readable by their owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)
