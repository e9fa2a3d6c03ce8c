"""``NamedTuple`` for the typed facts: typing's classes, without typing's cost at import time.

Every check is a new process, and its imports are most of its CPU. A class
written ``class Fact(NamedTuple)`` with typing's NamedTuple costs about
120 microseconds to create: with ``from __future__ import annotations`` each
field's annotation is a string, and typing compiles every one into a
ForwardRef that nothing here ever evaluates. The default check creates over
seventy such classes, about a tenth of its CPU above the libraries' imports.

This NamedTuple is typing's (Python 3.11's ``NamedTupleMeta``) without that
type check: the same ``collections.namedtuple`` class with the class body's
methods, properties and docstring, ``__annotations__`` the annotations as
written. Type checkers see ``typing.NamedTuple`` itself. Not supported (nothing
here uses them): generic NamedTuples and the functional form
``NamedTuple("Name", [...])``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    from collections import namedtuple

    #: What the class body may not set (typing's list): namedtuple's own machinery.
    _PROHIBITED = frozenset(
        {
            "__new__",
            "__init__",
            "__slots__",
            "__getnewargs__",
            "_fields",
            "_field_defaults",
            "_make",
            "_replace",
            "_asdict",
            "_source",
        }
    )
    #: What namedtuple has already set from the class statement.
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__", "__qualname__"})

    class _RecordMeta(type):
        def __new__(cls, typename: str, bases: tuple[type, ...], namespace: dict[str, object]) -> type:
            if bases != (NamedTuple,):
                raise TypeError(f"{typename}: a NamedTuple derives from NamedTuple alone")
            annotations = namespace.get("__annotations__", {})
            defaulted = []
            for name in annotations:
                if name in namespace:
                    defaulted.append(name)
                elif defaulted:
                    raise TypeError(
                        f"Non-default namedtuple field {name} cannot follow default field"
                        f"{'s' if len(defaulted) > 1 else ''} {', '.join(defaulted)}"
                    )
            record = namedtuple(
                typename,
                list(annotations),
                defaults=[namespace[name] for name in defaulted],
                module=namespace["__module__"],
            )
            record.__annotations__ = dict(annotations)
            record.__qualname__ = namespace.get("__qualname__", typename)
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"Cannot overwrite NamedTuple attribute {key}")
                if key not in _SPECIAL and key not in annotations:
                    setattr(record, key, value)
            return record

    NamedTuple = type.__new__(_RecordMeta, "NamedTuple", (), {"__module__": __name__})
