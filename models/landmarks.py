"""Named places of a community that are not a building: gates, squares, the car park.

An admin imports them with the places file (`[[place]]`, placesfile/); a report that names
one ("东门的路灯坏了") is about that place: it routes to the grid of the place (its own, else
its building's) and shows the name on the ticket (Ticket.spot).
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .communities import HOME_ID


class Landmark(Base):
    __tablename__ = "landmark"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id"), server_default=str(HOME_ID)
    )
    name: Mapped[str] = mapped_column(String(32))  # as the committee writes it: "东门"
    # Other names residents use for it, comma-joined ("东大门,东侧门").
    aliases: Mapped[str] = mapped_column(String(200), default="")
    # Whose it is: its grid, and the building it stands by (its grid when it has none).
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), nullable=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"), nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (UniqueConstraint("community_id", "name", name="uq_landmark_community_name"),)
