"""The collaborators one running app shares, built once by the lifespan (`parley.app`).

Routes never reach for them through `app.state`: they arrive as typed dependencies
(`parley.deps`), which tests may override.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parley.config import Settings
from parley.observability.components import Components
from parley.providers.registry import ProviderRegistry
from parley.security.access import AccessGuard
from parley.security.admission import Admission
from parley.security.local_jobs import LocalJobs
from parley.security.payer import KeyRule
from parley.speech.services import SpeechServices

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from parley.knowledge.compose import Composer
    from parley.observability.metrics import Metrics
    from parley.storage.repository import HistoryStore


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    openai: AsyncOpenAI
    keys: KeyRule
    access: AccessGuard
    registry: ProviderRegistry
    admission: Admission
    jobs: LocalJobs
    components: Components
    speech: SpeechServices
    storage: HistoryStore | None
    metrics: Metrics | None
    health: dict[str, Any]
    # Parley's design notes (None without the offline extras).
    composer: Composer | None = None
