"""Vercel's entry point: one ASGI function serving /api/*; the web app is on the CDN.

Settings come from the project's environment variables. The local models are not part of
the Vercel bundle (see docs/deploy.md); people bring their own key, or an operator key
behind an access code.
"""

from parley.app import create_app

app = create_app()
