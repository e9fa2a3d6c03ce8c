"""The words of revocation answers: whole days, and server text that cannot break the status line."""

from __future__ import annotations

from datetime import datetime

from cryptography import x509

from check_tls_mail.checks.revocation.status import (
    Revoked,
    Source,
    Unavailability,
    Unavailable,
)
from check_tls_mail.checks.revocation.words import describe


def test_dates_are_whole_days_in_words() -> None:
    revoked = Revoked(
        Source.CRL, "http://crl.example/x.crl", datetime(2026, 11, 2, 13, 5), x509.ReasonFlags.key_compromise
    )
    assert (
        describe(revoked)
        == "the certificate was revoked on 2026-11-02 (keyCompromise), says the CRL http://crl.example/x.crl"
    )
    no_reason = revoked._replace(reason=None)
    assert describe(no_reason) == "the certificate was revoked on 2026-11-02, says the CRL http://crl.example/x.crl"


def test_server_text_in_urls_cannot_break_the_status_line() -> None:
    status = Unavailable(Source.OCSP, "http://x.example/|\nOK", Unavailability.INVALID, "junk")
    words = describe(status)
    assert "|" not in words and "\n" not in words
