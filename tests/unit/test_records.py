"""check_tls_mail.records.NamedTuple makes the classes typing.NamedTuple makes, only cheaper.

Each behaviour the package's facts rely on is compared with typing's own
class made from the same class body: construction (positional, keyword,
defaults, the errors), the tuple itself, equality and hashing, ``_replace``,
``_asdict``, ``_make``, ``repr``, pickling, ``match`` and the class body's
methods, properties and docstring.
"""

from __future__ import annotations

import ast
import pickle
import typing
from pathlib import Path

import pytest

from check_tls_mail import records
from check_tls_mail.tls.suites import Suite

BODY = '''
from __future__ import annotations

class Fact(NamedTuple):
    """A fact with a docstring."""

    name: str
    port: int
    tags: tuple[str, ...] = ()
    note: str | None = None

    @property
    def where(self) -> str:
        return f"{self.name}:{self.port}"

    def tagged(self, tag: str) -> Fact:
        return self._replace(tags=(*self.tags, tag))

class Bare(NamedTuple):
    value: int

class Named:
    """A descriptor that learns its name: typing calls __set_name__ from Python 3.12 on."""

    def __set_name__(self, owner, name):
        self.seen = (owner.__name__, name)

class Outer:
    class Inner(NamedTuple):
        label: Named = Named()
        extra = Named()
'''


def made_by(named_tuple: object) -> dict[str, typing.Any]:
    namespace: dict[str, typing.Any] = {"NamedTuple": named_tuple, "__name__": __name__}
    exec(compile(BODY, "<records>", "exec"), namespace)
    return namespace


OURS = made_by(records.NamedTuple)
TYPING = made_by(typing.NamedTuple)


def behaviour(made: dict[str, typing.Any]) -> dict[str, object]:
    fact, bare, inner = made["Fact"], made["Bare"], made["Outer"].Inner
    globals()["Fact"] = fact  # where pickle looks the class up
    one = fact("mx", 25)
    two = fact(name="mx", port=25, tags=("a",), note="n")

    def error(*args: object, **kwargs: object) -> str:
        with pytest.raises(TypeError) as raised:
            fact(*args, **kwargs)
        return str(raised.value)

    with pytest.raises(AttributeError):
        one.port = 26  # immutable

    match two:
        case (name, port, tags, note):
            matched: object = (name, port, tags, note)
        case _:
            matched = None
    match one:
        case fact(name="mx", port=port_only):
            keyword_match: object = port_only
        case _:
            keyword_match = None
    return {
        "fields": fact._fields,
        "defaults": fact._field_defaults,
        "doc": fact.__doc__,
        "bare doc": bare.__doc__,
        "name": (fact.__name__, fact.__qualname__, fact.__module__),
        "nested name": (inner.__name__, inner.__qualname__),
        "set_name on a default": getattr(inner._field_defaults["label"], "seen", None),
        "set_name on an attribute": getattr(inner.extra, "seen", None),
        # every attribute but typing's __orig_bases__ (from its __mro_entries__; records.py says so)
        "class attributes": sorted(set(vars(fact)) - {"__orig_bases__"}),
        "annotations": fact.__annotations__,
        "match args": fact.__match_args__,
        "tuple": tuple(two),
        "is tuple": isinstance(one, tuple),
        "slots": fact.__slots__,
        "no dict": not hasattr(one, "__dict__"),
        "equal": (one == fact("mx", 25, (), None), one == ("mx", 25, (), None), hash(one) == hash(fact("mx", 25))),
        "attributes": (two.name, two.port, two.tags, two.note, two[1], two[-1]),
        "property": one.where,
        "method": one.tagged("x"),
        "replace": two._replace(port=587),
        "asdict": two._asdict(),
        "make": fact._make(["mx", 465, ("b",), None]),
        "repr": repr(two),
        "pickled": pickle.loads(pickle.dumps(two)) == two,
        "getnewargs": two.__getnewargs__(),
        "match": matched,
        "keyword match": keyword_match,
        "missing argument": error("mx"),
        "unknown keyword": error("mx", 25, colour="blue"),
        "too many": error("mx", 25, (), None, 1),
        "base": fact.__mro__[1:],
    }


def test_same_behaviour_as_typing() -> None:
    ours, theirs = behaviour(OURS), behaviour(TYPING)
    annotations_ours, annotations_theirs = ours.pop("annotations"), theirs.pop("annotations")
    assert ours == theirs
    # typing turns each string into a ForwardRef (the cost this module avoids); the names and texts are the same
    assert list(annotations_ours) == list(annotations_theirs) == ["name", "port", "tags", "note"]  # type: ignore[call-overload]
    assert [getattr(a, "__forward_arg__", a) for a in annotations_theirs.values()] == list(annotations_ours.values())  # type: ignore[attr-defined]


def test_the_packages_facts_are_made_by_it() -> None:
    """No module of the package takes typing's NamedTuple at run time (a class of typing's would still pass the
    rest of the suite: only the CPU would tell)."""
    package = Path(records.__file__).parent
    at_run_time = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module == "typing"
                and any(alias.name == "NamedTuple" for alias in node.names)
                and path.relative_to(package) != Path("records.py")
            ):
                at_run_time.append(str(path.relative_to(package)))
    assert at_run_time == [], "take NamedTuple from check_tls_mail.records (its docstring says why)"
    # typing also writes the checked annotations onto namedtuple's __new__; this NamedTuple does not
    assert Suite.__new__.__annotations__ == {}
    assert TYPING["Fact"].__new__.__annotations__ != {}
    assert Suite("TLS_AES_128_GCM_SHA256", None, None)._replace(openssl="x").openssl == "x"


REFUSED = {
    "Non-default namedtuple field second cannot follow default field first": (
        "class Bad(NamedTuple):\n    first: int = 0\n    second: int\n"
    ),
    "Cannot overwrite NamedTuple attribute _replace": (
        "class Overwrites(NamedTuple):\n    value: int\n    def _replace(self):\n        pass\n"
    ),
    "can only inherit|derives from NamedTuple alone": "class Mixed(NamedTuple, int):\n    value: int\n",
}


@pytest.mark.parametrize("words", REFUSED)
@pytest.mark.parametrize("named_tuple", [records.NamedTuple, typing.NamedTuple], ids=["records", "typing"])
def test_what_typing_refuses_it_refuses(words: str, named_tuple: object) -> None:
    with pytest.raises((TypeError, AttributeError), match=words):
        exec(REFUSED[words], {"NamedTuple": named_tuple, "__name__": __name__})
