"""Print every import of check_tls_mail that runs up the folders' order or round in a circle; exit 1 if any.

The folders' order is docs/architecture.md's, from the top down. Every import
counts, lazy ones inside functions and those only for type checking included:
a module may import from its own folder and from any folder further down, and
no chain of imports may come back to where it started.

Usage: python3 scripts/layers.py [PACKAGE_DIR]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

#: From the top down; folders on one floor do not import each other.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("cli",),
    ("checks",),
    ("plugin",),
    ("judgement",),
    ("probe",),
    ("clients",),
    ("tls",),
    ("x509", "net"),
    ("",),  # the package root: errors, records, sanitize, severity, words
)


def floor(module: str) -> int:
    """The floor of a module named without the package ('x509.parse', 'errors')."""
    top = module.split(".")[0] if "." in module else ""
    for number, folders in enumerate(FLOORS):
        if top in folders:
            return number
    raise ValueError(f"{module}: in no folder of the order")


def imports(package: Path) -> dict[str, set[str]]:
    """Each module (dotted, without the package) -> the package modules it imports, anywhere in its code."""
    found: dict[str, set[str]] = {}
    modules = {
        ".".join(path.relative_to(package).with_suffix("").parts): path
        for path in package.rglob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    }
    for name, path in modules.items():
        here = name.split(".")[:-1]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                stem = [*base, *(node.module.split(".") if node.module else [])]
                for alias in node.names:
                    candidate = ".".join([*stem, alias.name])
                    targets.add(candidate if candidate in modules else ".".join(stem))
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(package.name + "."):
                stem = node.module.split(".")[1:]
                for alias in node.names:
                    candidate = ".".join([*stem, alias.name])
                    targets.add(candidate if candidate in modules else ".".join(stem))
        found[name] = {t for t in targets if t in modules and t != name}
    return found


def problems(package: Path) -> list[str]:
    graph = imports(package)
    said = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if floor(target) < floor(module):
                said.append(f"up: {module} imports {target}")
            elif floor(target) == floor(module) and module.split(".")[0] != target.split(".")[0]:
                said.append(f"across: {module} imports {target} (folders on one floor)")
    # circles: a depth-first search for a path back to where it started
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                said.append("circle: " + " -> ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return said


def main() -> int:
    package = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "check_tls_mail"
    said = problems(package)
    for line in said:
        print(line)
    print(f"{len(imports(package))} modules: {len(said)} imports that run up, across or round")
    return 1 if said else 0


if __name__ == "__main__":
    sys.exit(main())
