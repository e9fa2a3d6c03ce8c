"""What can be wrong with a served chain, typed: ``CertificateProblem`` with its ``ProblemKind`` and detail.

Trust layer, data only: the verdict makes these, the assessment and the contexts read them, trustwords words them.
"""

import enum
from datetime import datetime

from ..records import NamedTuple
from .fields import Malformation
from .keys import Digest, Key


class ProblemKind(enum.Enum):
    """What is wrong, as far as a TLS client that verifies is concerned."""

    MALFORMED = "malformed"  # detail: Malformation (stricter than OpenSSL for some)
    EXPIRED = "expired"
    NOT_YET_VALID = "not yet valid"
    SELF_SIGNED = "self-signed"  # the server's own certificate, self-signed and not a trust anchor
    UNTRUSTED = "untrusted"  # the chain ends at an issuer that is not a trust anchor
    INCOMPLETE_CHAIN = "incomplete chain"  # the server sent only its certificate, whose issuer is unknown
    BAD_SIGNATURE = "bad signature"  # the issuer's key does not verify the signature
    INVALID_CA = "invalid CA"  # detail: CaDefect
    PURPOSE = "purpose"  # detail: PurposeDefect
    UNKNOWN_CRITICAL_EXTENSION = "unknown critical extension"
    NAME_CONSTRAINTS = "name constraints"  # detail: ConstraintDefect
    WEAK_SIGNATURE = "weak signature"  # SHA-1, MD5 below the trust anchor
    RSA_TOO_SMALL = "RSA key too small"  # under 2048 bits
    KEY_TOO_SMALL = "key too small"  # DSA under 2048 bits, EC under 224 bits
    NAME_MISMATCH = "name mismatch"
    NO_SAN = "no subjectAltName"  # the name only in the CN (stricter than OpenSSL)


class CaDefect(enum.Enum):
    """Why a certificate above the server's cannot issue it."""

    NOT_CA = "basicConstraints CA:FALSE"
    NO_BASIC_CONSTRAINTS = "no basicConstraints"
    VERSION_1 = "version 1"
    NO_CERT_SIGN = "keyUsage without keyCertSign"
    PATH_LENGTH = "pathLenConstraint exceeded"  # number: the pathLenConstraint


class PurposeDefect(enum.Enum):
    """Why a certificate is not for TLS servers."""

    EXTENDED_KEY_USAGE = "extendedKeyUsage without serverAuth"  # names: what it allows, in words
    KEY_USAGE = "keyUsage without a TLS usage"  # names: what it allows, in words
    NETSCAPE_TYPE = "Netscape certificate type without SSL server"


class ConstraintDefect(enum.Enum):
    EXCLUDED = "excluded"
    NOT_PERMITTED = "not permitted"
    UNSUPPORTED = "unsupported"  # a constraint of a kind OpenSSL cannot check (or with minimum/maximum)


class Role(enum.Enum):
    CERTIFICATE = "certificate"  # the server's own
    INTERMEDIATE = "intermediate"
    ROOT = "root"  # the self-signed trust anchor (or a self-signed root the server sent)


class CertificateProblem(NamedTuple):
    """One problem with one certificate of the chain; describe() words it."""

    kind: ProblemKind
    position: int  # index in TrustVerdict.chain: 0 is the server's certificate
    role: Role
    subject: str  # short name (CN), cleaned
    detail: Malformation | CaDefect | PurposeDefect | ConstraintDefect | None = None
    moment: datetime | None = None  # EXPIRED: notAfter; NOT_YET_VALID: notBefore
    days: float = 0.0  # EXPIRED: days since; NOT_YET_VALID: days until
    names: tuple[str, ...] = ()  # the names the certificate is for (raw; describe() cleans)
    wanted: str = ""  # the name asked for (raw)
    number: int = 0  # key bits; pathLenConstraint
    key: Key | None = None  # RSA_TOO_SMALL, KEY_TOO_SMALL: the key
    digest: Digest | None = None  # WEAK_SIGNATURE: the signature's digest
    text: str = ""  # issuer's name, extension's name, constraint holder's name, defect datum (cleaned)
    text2: str = ""  # a second datum of a Malformation (the ASN.1 type)
    origin: str = ""  # where the anchors came from: "--ca-file /etc/x.pem", "the system trust store"


#: Kinds about the name asked for; the others are about the chain.
NAME_KINDS = frozenset({ProblemKind.NAME_MISMATCH, ProblemKind.NO_SAN})
#: Kinds about dates on the chain.
VALIDITY_KINDS = frozenset({ProblemKind.EXPIRED, ProblemKind.NOT_YET_VALID})
