"""Base class of the immutable result types, with the behaviour of frozen dataclasses.

The result types were frozen dataclasses. Importing ``dataclasses`` and
generating the methods of each class took several milliseconds and more
than a megabyte at every start of the ``opstatus`` command, so the
methods are written once here instead. A subclass lists its fields in
``__match_args__``, declares them in ``__slots__`` and sets them in its
``__init__`` with ``object.__setattr__``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import Field
    from typing import Any, ClassVar

__all__ = ["FrozenRecord"]


def _frozen_error(message: str) -> AttributeError:
    # Imported here because dataclasses is needed only on this error path.
    from dataclasses import FrozenInstanceError

    return FrozenInstanceError(message)


class _DataclassAttribute:
    """Class attribute of ``dataclasses``, such as ``__dataclass_fields__``, created on first access.

    The functions of ``dataclasses`` (``fields``, ``asdict``, ``astuple``,
    ``replace``, ``is_dataclass``) read ``__dataclass_fields__``, and a
    dataclass that subclasses a record reads ``__dataclass_params__``.
    Both come from a frozen dataclass with the same fields that
    ``make_dataclass()`` builds, so only the public API of ``dataclasses``
    is used.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __get__(self, instance: object, owner: type[FrozenRecord]) -> Any:
        if owner is FrozenRecord:
            # The base class has no fields and is not a dataclass itself.
            raise AttributeError(self._name)
        import dataclasses

        annotations: dict[str, Any] = {}
        for cls in reversed(owner.__mro__):
            annotations.update(cls.__dict__.get("__annotations__", {}))
        specifications: list[Any] = []
        for name in owner.__match_args__:
            if name in owner._field_defaults:
                default = dataclasses.field(default=owner._field_defaults[name])
                specifications.append((name, annotations[name], default))
            else:
                specifications.append((name, annotations[name]))
        model = dataclasses.make_dataclass(owner.__name__, specifications, frozen=True)
        # The class's own attributes hide the descriptors from then on.
        for name in ("__dataclass_fields__", "__dataclass_params__"):
            setattr(owner, name, getattr(model, name))
        return getattr(model, self._name)


class FrozenRecord:
    """Immutable record compared, hashed and shown by the values of its fields.

    Equality, hashing and repr follow a ``@dataclass(frozen=True)`` with
    the same fields. Assigning or deleting an attribute raises
    ``dataclasses.FrozenInstanceError``.
    """

    __slots__ = ()

    __match_args__: ClassVar[tuple[str, ...]] = ()
    # Defaults of the fields that have one, as the class's __init__ sets them.
    _field_defaults: ClassVar[dict[str, Any]] = {}

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]] = _DataclassAttribute(
        "__dataclass_fields__"
    )  # type: ignore[assignment]
    __dataclass_params__: ClassVar[Any] = _DataclassAttribute("__dataclass_params__")

    def _field_values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self.__match_args__])

    def __repr__(self) -> str:
        fields_text = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self.__match_args__
        )
        return f"{type(self).__qualname__}({fields_text})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, FrozenRecord)
        return self._field_values() == other._field_values()

    def __hash__(self) -> int:
        return hash(self._field_values())

    def __setattr__(self, name: str, value: object) -> None:
        raise _frozen_error(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise _frozen_error(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        # For pickle and copy: every subclass takes its fields positionally.
        return (type(self), self._field_values())

    def __replace__(self, **changes: Any) -> Any:
        # copy.replace() of Python 3.13, which dataclasses support too.
        values = {name: getattr(self, name) for name in self.__match_args__}
        values.update(changes)
        return type(self)(**values)
