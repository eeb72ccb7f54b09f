"""Column types that read back the same Python values on SQLite and PostgreSQL.

PostgreSQL keeps time zones (``timestamptz``) and returns aware datetimes in the
session's zone; SQLite has no datetime type and returns naive values. Every timestamp
in the call log is an instant, so this type accepts only aware datetimes, stores UTC,
and always hands back aware UTC datetimes, whichever backend is in use.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa


class UTCDateTime(sa.TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that refuses naive values and returns aware UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: an aware one is needed")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite stores text; all values are UTC, so text order is time order.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
