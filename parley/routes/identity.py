"""Who a server-history request speaks for (/api/sessions, /api/projects): its owner.

Both routers read history for one owner only: a device (the hash of its secret) or a signed-in
Clerk user. Each request counts against the client's rate limit before anything else.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from parley import errors
from parley.deps import AdmitDep, ClientDep, OriginsDep, StoreDep
from parley.storage.owners import Identity


async def client_budget(admission: AdmitDep, client: ClientDep) -> None:
    """Reads and writes of history count against the client's rate limit, before anything
    else (a sign-in token is checked after this, never for free)."""
    await admission.client(client)


NO_OWNER = (
    "Turn on \"Keep history on the server\" in Settings, or sign in, to see conversations "
    "kept on the server."
)


async def get_identity(
    store: StoreDep,
    origins: OriginsDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_parley_device: Annotated[
        str | None,
        Header(
            max_length=200,
            description="This device's random 256-bit secret (64 hex or 43 base64url chars).",
        ),
    ] = None,
) -> Identity:
    """Who the request speaks for: a Clerk session token and/or a device secret."""
    return await store.owners.identify(authorization, x_parley_device, origins=origins)


IdentityDep = Annotated[Identity, Depends(get_identity)]


async def require_owner(identity: IdentityDep) -> str:
    """The owner whose history the request reads or writes; 401 when there is none."""
    if identity.owner is None:
        raise errors.Unauthenticated(NO_OWNER)
    return identity.owner


OwnerDep = Annotated[str, Depends(require_owner)]
