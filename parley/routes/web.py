"""The static web app, with the same cache policy as the CDN deployment (vercel.json)."""

from __future__ import annotations

import os

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# Files are not fingerprinted (there is no build step), so everything but the icons is
# revalidated on each load: a cheap 304 with the ETag, and a deploy shows up at once.
# Icons are long-lived; change their names when they change.
REVALIDATE = "public, max-age=0, must-revalidate"
LONG_LIVED = "public, max-age=31536000, immutable"


class WebApp(StaticFiles):
    """StaticFiles with Cache-Control headers."""

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        path: str = scope["path"]
        if path.endswith("/sw.js"):
            response.headers["Cache-Control"] = "no-cache"
        elif path.startswith("/icons/"):
            response.headers["Cache-Control"] = LONG_LIVED
        else:
            response.headers["Cache-Control"] = REVALIDATE
        return response
