"""``NamedTuple`` for the typed facts: typing's classes, without typing's cost at import time.

Every check is a new process, and its imports are most of its CPU. typing's
NamedTupleMeta makes the collections.namedtuple class (about 40 us) and then
type-checks every annotation (with ``from __future__ import annotations``,
compiling each string into a ForwardRef) and assigns ``__bases__`` again,
which makes the interpreter rebuild the class's slots: 75 to 120 us a class
in all. A default check creates 74 of them; this NamedTuple saves about 7 ms
of its CPU (1.39x to 1.30x the import floor, paired, docs/performance.md).

It is typing's NamedTupleMeta (Python 3.11 and 3.13 read side by side) without
those two steps: the same collections.namedtuple class, the class body's
methods, properties, docstring and qualified name set on it as typing sets
them (``__set_name__`` called from Python 3.12 on, as typing does there),
``__annotations__`` the annotations as written. Type checkers see
``typing.NamedTuple`` itself. Not supported, as nothing here uses them:
generic NamedTuples, the functional form ``NamedTuple("Name", [...])``, and
``__orig_bases__`` (typing's class has it from its ``__mro_entries__``).
A new module takes NamedTuple from here: tests/unit/test_records.py fails
for one that imports typing's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    import sys
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
    #: What namedtuple has set from the class statement (typing's list).
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})
    #: typing calls __set_name__ on the class body's values from Python 3.12 on.
    _SET_NAMES = sys.version_info >= (3, 12)

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
            defaults = [namespace[name] for name in defaulted]
            record = namedtuple(typename, list(annotations), defaults=defaults, module=namespace["__module__"])
            record.__annotations__ = dict(annotations)
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"Cannot overwrite NamedTuple attribute {key}")
                if key in _SPECIAL:
                    continue
                if key not in record._fields:
                    setattr(record, key, value)
                set_name = getattr(type(value), "__set_name__", None) if _SET_NAMES else None
                if set_name is not None:
                    set_name(value, record, key)
            return record

    NamedTuple = type.__new__(_RecordMeta, "NamedTuple", (), {"__module__": __name__})
