"""/api/sessions and /api/projects when this server keeps no history: one clear 404 for
every request.

The real routes (routes/sessions.py, routes/projects.py) are mounted only with a database
configured, so a server without one never imports the database layer (SQLAlchemy costs about
150 ms at startup, which serverless cold starts pay).
"""

from __future__ import annotations

from fastapi import APIRouter

from parley import errors

router = APIRouter(include_in_schema=False)


@router.api_route("/api/sessions", methods=["GET", "POST", "PATCH", "DELETE"])
@router.api_route("/api/sessions/{rest:path}", methods=["GET", "POST", "PATCH", "DELETE"])
@router.api_route("/api/projects", methods=["GET", "POST", "PATCH", "DELETE"])
@router.api_route("/api/projects/{rest:path}", methods=["GET", "POST", "PATCH", "DELETE"])
async def history_off(rest: str = "") -> None:
    """History is off here: conversations stay on the device."""
    raise errors.HistoryOff()
