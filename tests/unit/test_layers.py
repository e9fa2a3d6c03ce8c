"""The package's folders: no import runs up their order, across a floor, or round (scripts/layers.py)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

from runs import ROOT


def layers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("layers", ROOT / "scripts" / "layers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_runs_up_across_or_round() -> None:
    assert layers().problems(ROOT / "check_tls_mail") == []


def test_an_import_up_and_a_circle_are_found(tmp_path: Path) -> None:
    package = tmp_path / "check_tls_mail"
    shutil.copytree(ROOT / "check_tls_mail", package)
    with (package / "x509" / "der.py").open("a") as der:
        der.write("\n\ndef _up() -> None:\n    from ..plugin import wording  # noqa: F401\n")
    with (package / "x509" / "problems.py").open("a") as problems:
        problems.write("\nfrom .words import describe  # noqa: E402,F401\n")
    found = layers().problems(package)
    assert "up: x509.der imports plugin.wording" in found
    assert "circle: x509.problems -> x509.words -> x509.problems" in found
