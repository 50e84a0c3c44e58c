"""The session operations join implicitly: one context variable, bound per task.

``cat.session()`` and ``cat.transaction()`` both bind their driver session here;
every mongocat operation on the same client, awaited in the same task, finds it
through :func:`bound_session` (an explicit ``session=`` still wins). A session
serves one operation at a time, so an operation from another task (a child task
inherits the context variable) is refused with :class:`~mongocat.TransactionError`
instead of silently sharing the session or silently leaving the transaction.
"""

import asyncio
import contextvars
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from ._errors import TransactionError

__all__ = ["Binding", "bind", "bound_session", "current_binding", "in_transaction", "unbind"]


@dataclass(frozen=True, slots=True)
class _Bound:
    """The session operations of one client join, and the task that owns it."""

    client: Any
    session: Any
    task: "asyncio.Task[Any] | None"
    transaction: bool


_CURRENT: contextvars.ContextVar[_Bound | None] = contextvars.ContextVar(
    "mongocat_session", default=None
)
#: The binding in force in this context, or None when no session is bound anywhere
#: (the context variable's own getter: a C call, asked on every operation).
current_binding: Final = _CURRENT.get

#: What :func:`bind` returns and :func:`unbind` takes back.
Binding: TypeAlias = "contextvars.Token[_Bound | None]"


def bind(client: Any, session: Any, *, transaction: bool) -> Binding:
    """Make ``session`` the one this task's operations on ``client`` join."""
    return _CURRENT.set(_Bound(client, session, asyncio.current_task(), transaction))


def unbind(binding: Binding) -> None:
    """Undo :func:`bind`: the binding in force before it applies again."""
    _CURRENT.reset(binding)


def in_transaction(client: Any) -> bool:
    """Whether a transaction on ``client`` is bound in this context."""
    current = _CURRENT.get()
    return current is not None and current.client is client and current.transaction


def bound_session(client: Any) -> Any:
    """Return the session an operation on ``client`` joins implicitly, or None.

    Raises:
        TransactionError: The session was bound in another task.
    """
    current = _CURRENT.get()
    if current is None or current.client is not client:
        return None
    if current.task is not asyncio.current_task():
        kind = "transaction" if current.transaction else "session"
        raise TransactionError(
            f"this operation runs in another task than the {kind} it would join; a session "
            "serves one operation at a time: await it in the task that opened the "
            f"{kind}, or pass session= explicitly"
        )
    return current.session
