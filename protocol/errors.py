"""Exceptions of the protocol package.

::

    Hj212Error
    └── ProtocolError            (abstract)
        ├── LocalProtocolError   we tried to build something illegal: a bug on our side
        └── RemoteProtocolError  the peer sent something we cannot use; ``code`` is a
                                 stable word (``framing``, ``length``, ``crc``, ``syntax``)

Damaged frames are not raised out of :class:`protocol.Connection`: they come back as
:class:`protocol.events.Rejected` events carrying the same code, so one bad frame never
makes a connection unusable.
"""

from __future__ import annotations


class Hj212Error(Exception):
    """Base of every error this project raises on purpose."""


class ProtocolError(Hj212Error):
    """Raised for a frame or message that breaks HJ 212."""


class LocalProtocolError(ProtocolError):
    """Raised when our own code asks to encode something HJ 212 does not allow."""


class RemoteProtocolError(ProtocolError):
    """Raised when bytes from the peer cannot be understood.

    :param code: a stable code word: ``framing``, ``length``, ``crc``, ``legacy-crc``,
        ``syntax`` or ``decrypt``.
    """

    def __init__(self, code: str, detail: str, *, variant: str | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.variant = variant
