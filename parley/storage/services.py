"""Server-side history, when PARLEY_DATABASE_URL is set: built once in the app's lifespan."""

from __future__ import annotations

import logging

from parley.config import Settings
from parley.observability.components import Components
from parley.storage.db import check_schema, database_problems, make_engine, upgrade
from parley.storage.owners import owner_resolver
from parley.storage.repository import HistoryStore

log = logging.getLogger(__name__)


async def build_storage(
    settings: Settings, components: Components | None = None
) -> HistoryStore | None:
    """The history store, or None when conversations stay on the device."""
    if settings.database_url is None:
        return None
    url = settings.database_url.get_secret_value()
    owners = owner_resolver(settings)
    engine = make_engine(url)
    try:
        # Fail at startup, saying what to fix, rather than on the first conversation saved.
        with database_problems():
            if settings.database_migrate_on_start:
                await upgrade(url)
            await check_schema(engine)
    except BaseException:
        await engine.dispose()
        raise
    log.info(
        "server history on (%s%s)",
        engine.dialect.name,
        ", with Clerk sign-in" if owners.clerk is not None else "",
    )
    return HistoryStore(
        engine, owners, components=components,
        max_sessions=settings.history_max_sessions, max_messages=settings.history_max_messages,
        max_projects=settings.history_max_projects,
        max_image_bytes=settings.history_max_image_bytes,
    )
