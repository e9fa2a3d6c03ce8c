"""TLS alerts (RFC 8446 section 6, RFC 5246 section 7.2): the one vocabulary of an alert, and one received.

TLS layer, data only: OpenSSL's reasons and the flight reader's records both become an ``Alert``.
"""

import enum

from ..records import NamedTuple


class Alert(enum.IntEnum):
    """An alert description; the name is the RFC's, the value its code."""

    close_notify = 0
    unexpected_message = 10
    bad_record_mac = 20
    decryption_failed = 21
    record_overflow = 22
    decompression_failure = 30
    handshake_failure = 40
    no_certificate = 41
    bad_certificate = 42
    unsupported_certificate = 43
    certificate_revoked = 44
    certificate_expired = 45
    certificate_unknown = 46
    illegal_parameter = 47
    unknown_ca = 48
    access_denied = 49
    decode_error = 50
    decrypt_error = 51
    export_restriction = 60
    protocol_version = 70
    insufficient_security = 71
    internal_error = 80
    inappropriate_fallback = 86
    user_canceled = 90
    no_renegotiation = 100
    missing_extension = 109
    unsupported_extension = 110
    certificate_unobtainable = 111
    unrecognized_name = 112
    bad_certificate_status_response = 113
    bad_certificate_hash_value = 114
    unknown_psk_identity = 115
    certificate_required = 116
    general_error = 117
    no_application_protocol = 120
    ech_required = 121

    @property
    def words(self) -> str:
        """'handshake failure'."""
        return self.name.replace("_", " ")

    @property
    def means_no_common_suite(self) -> bool:
        """The server's answer to an offer it shares no suite, group or version with."""
        return self in (Alert.handshake_failure, Alert.insufficient_security)

    @classmethod
    def of(cls, code: int) -> "Alert | None":
        """The alert with this code, or None for a code no RFC defines."""
        return cls(code) if code in cls._value2member_map_ else None

    @classmethod
    def from_openssl_reason(cls, code: str) -> "Alert | None":
        """The alert in an OpenSSL reason code: SSLV3_ALERT_HANDSHAKE_FAILURE, TLSV1_UNRECOGNIZED_NAME."""
        for marker in ("_ALERT_", "TLSV1_"):
            if marker in code:
                name = code.split(marker, 1)[1].lower().replace("cancelled", "canceled")
                if name in cls.__members__:
                    return cls[name]
        return None


class ReceivedAlert(NamedTuple):
    """An alert record as a server sent it: its code (any byte) and whether it was fatal."""

    code: int
    fatal: bool

    @property
    def alert(self) -> Alert | None:
        """The alert, or None for a code no RFC defines."""
        return Alert.of(self.code)

    def __str__(self) -> str:
        alert = self.alert
        name = alert.name if alert is not None else f"alert {self.code}"
        return name if self.fatal else f"{name} (warning)"
