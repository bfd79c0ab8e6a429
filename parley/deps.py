"""Typed dependencies: every collaborator a route receives (tests swap them via overrides).

This module and `parley.app` are the only ones that know where the app keeps its
collaborators. All are `async def`: FastAPI runs a plain `def` dependency in a worker
thread, and those thread hops were a large part of a turn's CPU.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Header, Request, WebSocket
from pydantic import SecretStr

from parley import errors
from parley.config import Settings
from parley.observability.requests import RequestRecord, request_record
from parley.providers.registry import ProviderRegistry
from parley.security.admission import Admission
from parley.security.keys import bearer_value, check_key_shape, is_session_token
from parley.security.local_jobs import Gone, LocalJobs
from parley.security.payer import Access, KeyRule
from parley.security.ratelimit import key_fingerprint
from parley.services import Services
from parley.speech.services import SpeechServices

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from parley.knowledge.compose import Composer
    from parley.observability.metrics import Metrics
    from parley.storage.repository import HistoryStore


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_ws_services(websocket: WebSocket) -> Services:
    """The app's collaborators, for a WebSocket route."""
    services: Services = websocket.app.state.services
    return services


WsServicesDep = Annotated[Services, Depends(get_ws_services)]


async def get_ws_speech(services: WsServicesDep) -> SpeechServices:
    """The speech engines, for a WebSocket route (tests may override this dependency)."""
    return services.speech


WsSpeechDep = Annotated[SpeechServices, Depends(get_ws_speech)]


def websocket_client(websocket: WebSocket) -> str:
    """A WebSocket's client address (the trusted proxy's view of it)."""
    return websocket.client.host if websocket.client else "unknown"


async def get_settings(request: Request) -> Settings:
    # Settings exist before the lifespan has run (app creation reads them).
    settings: Settings = request.app.state.settings
    return settings


async def get_registry(services: ServicesDep) -> ProviderRegistry:
    return services.registry


async def get_keys(services: ServicesDep) -> KeyRule:
    return services.keys


async def get_admission(services: ServicesDep) -> Admission:
    return services.admission


async def get_jobs(services: ServicesDep) -> LocalJobs:
    return services.jobs


async def client_gone(request: Request) -> Gone:
    """A wait that ends when the client hangs up (for work that waits before it answers).

    Only for requests whose body has been read: the next ASGI message is then the
    disconnect, so nothing is polled.
    """
    receive = request.receive

    async def until_gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    return until_gone


async def get_speech(services: ServicesDep) -> SpeechServices:
    """The app's speech engines (tests may override this dependency)."""
    return services.speech


async def get_openai(services: ServicesDep) -> AsyncOpenAI:
    return services.openai


async def get_metrics(request: Request) -> Metrics | None:
    metrics: Metrics | None = request.app.state.metrics
    return metrics


async def get_composer(services: ServicesDep) -> Composer | None:
    """Parley's design notes, when the offline extras are installed."""
    return services.composer


async def get_history(services: ServicesDep) -> HistoryStore | None:
    """The server's history store, or None when conversations stay on the device."""
    return services.storage


if TYPE_CHECKING:
    HistoryDep = Annotated[HistoryStore | None, Depends(get_history)]
else:
    # The database layer is imported only with history on (it is slow to import): FastAPI,
    # which reads annotations at run time, sees a plain object.
    HistoryDep = Annotated[object, Depends(get_history)]


async def get_store(history: HistoryDep) -> HistoryStore:
    """The history store; 404 storage_disabled when this server keeps no history."""
    if history is None:
        raise errors.HistoryOff()
    return history


async def get_record(request: Request) -> RequestRecord:
    """What this request's log line will say; routes fill it in."""
    return request_record(request)


async def client_address(request: Request) -> str:
    """The caller's address (the proxy's view of it, when the proxy is trusted)."""
    return request.client.host if request.client else "unknown"


async def own_origins(request: Request) -> tuple[str, ...]:
    """This app's own origins, as a page served by it would name them (sign-in's `azp`)."""
    settings: Settings = request.app.state.settings
    host = request.headers.get("host", "")
    # Both schemes: behind a proxy that ends TLS the app may see http while pages are https;
    # the Host itself has passed the allowlist.
    return (f"https://{host}", f"http://{host}", *settings.allowed_origins)


async def bearer_key(
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str | None:
    """The key from `Authorization: Bearer <key>`, if the header carries one."""
    value = bearer_value(authorization)
    # A signed-in session's identity token is never an API key.
    if value is None or is_session_token(value):
        return None
    check_key_shape(value)
    return value


async def bearer_credential(
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str | None:
    """Whatever `Authorization: Bearer` carries (a metrics token, say), unchecked."""
    return bearer_value(authorization)


def person_key(own: SecretStr | str | None, bearer: str | None) -> str | None:
    """The person's own key: the body's (or form's) `apiKey`, else the Bearer header."""
    if isinstance(own, SecretStr):
        own = own.get_secret_value()
    return (own or "").strip() or bearer


async def get_access(
    services: ServicesDep,
    client: Annotated[str, Depends(client_address)],
    x_parley_access_code: Annotated[
        str | None, Header(include_in_schema=False, max_length=200)
    ] = None,
) -> Access:
    """Whether the caller may spend the operator's key: the access code, checked first.

    A dependency resolves before the body is read, so a wrong code gets the same 401 (and
    too many get 429) whatever else the request holds.
    """
    return await services.access.check(client, x_parley_access_code or None)


async def person(
    client: Annotated[str, Depends(client_address)],
    x_parley_device: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    """One name per person for budgets: their device's secret, hashed, else their address."""
    if x_parley_device:
        return f"device:{key_fingerprint(x_parley_device)}"
    return f"client:{client}"


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[ProviderRegistry, Depends(get_registry)]
KeysDep = Annotated[KeyRule, Depends(get_keys)]
AdmitDep = Annotated[Admission, Depends(get_admission)]
JobsDep = Annotated[LocalJobs, Depends(get_jobs)]
GoneDep = Annotated[Gone, Depends(client_gone)]
SpeechDep = Annotated[SpeechServices, Depends(get_speech)]
if TYPE_CHECKING:
    ComposerDep = Annotated[Composer | None, Depends(get_composer)]
    OpenAIDep = Annotated[AsyncOpenAI, Depends(get_openai)]
    MetricsDep = Annotated[Metrics | None, Depends(get_metrics)]
    StoreDep = Annotated[HistoryStore, Depends(get_store)]
else:
    ComposerDep = Annotated[object, Depends(get_composer)]
    # These types are imported only by the code that uses them (the OpenAI SDK and the
    # database layer are slow to import, and a cold start pays for it), so FastAPI, which
    # reads annotations at run time, sees a plain object.
    OpenAIDep = Annotated[object, Depends(get_openai)]
    MetricsDep = Annotated[object, Depends(get_metrics)]
    StoreDep = Annotated[object, Depends(get_store)]
RecordDep = Annotated[RequestRecord, Depends(get_record)]
ClientDep = Annotated[str, Depends(client_address)]
OriginsDep = Annotated[tuple[str, ...], Depends(own_origins)]
BearerKeyDep = Annotated[str | None, Depends(bearer_key)]
BearerValueDep = Annotated[str | None, Depends(bearer_credential)]
AccessDep = Annotated[Access, Depends(get_access)]
PersonDep = Annotated[str, Depends(person)]
