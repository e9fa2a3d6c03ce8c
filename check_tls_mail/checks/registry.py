"""The optional checks, in the order their options, findings and words appear: the one place to add one.

Checks layer: each entry is the face of a check's folder (see protocol.py); importing them imports no
library a run without their options does not need.
"""

from __future__ import annotations

from .ari.check import Ari
from .dane.check import Dane
from .mtasts.check import MtaSts
from .protocol import OptionalCheck
from .renewal.check import Renewal
from .revocation.check import Revocation

CHECKS: tuple[type[OptionalCheck], ...] = (Dane, Renewal, Revocation, Ari, MtaSts)
