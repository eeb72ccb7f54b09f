"""``DtmfError``: a sequence that breaks a DTMF rule, with the character and where."""

from __future__ import annotations


class DtmfError(ValueError):
    """A sequence that breaks a DTMF rule, saying which character and where.

    A ``ValueError`` so schema validators can let it through unchanged; the
    attributes let lint turn ``position`` into a line and column.
    """

    def __init__(
        self,
        message: str,
        *,
        char: str | None = None,
        position: int | None = None,
        dialect: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.char = char
        self.position = position
        self.dialect = dialect

    def __str__(self) -> str:
        return self.message
