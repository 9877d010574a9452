from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base


class ResolutionCount(Base):
    """Resolutions per prefix per day (UTC), for the statistics reported upward."""

    __tablename__ = "resolution_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    prefix_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
