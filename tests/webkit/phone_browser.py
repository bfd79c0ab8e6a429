#!/usr/bin/python3
"""A phone-sized WebKitGTK browser for WebKitWebDriver: one web view, no toolbar, 390 x 844.

Debian's MiniBrowser cannot be narrower than its toolbar (447 px), and the settings a voice
app needs (media stream, mock microphone, granted permissions) are not WebDriver
capabilities. This program runs under the system python3 (PyGObject), not the test venv:
WebKitWebDriver launches it with `--automation` and the arguments the test passes in
`webkitgtk:browserOptions`.

  --profile DIR        where this session keeps its data (a fresh, empty directory)
  --downloads DIR      saved downloads land here, each renamed into place when complete
  --errors FILE        uncaught JavaScript errors, one JSON string a line
  --init-script FILE   run at document start in every page (repeatable)
  --locale LOCALE      the process locale (LANG), which becomes navigator.language
  --dark               prefer the dark theme: the page sees prefers-color-scheme: dark
  --size WxH           the viewport (default 390x844, an iPhone 14/15)
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import sys
from typing import Any

NAME = "ParleyPhone"  # the browserName the driver reports; tests ask for it
PR_SET_PDEATHSIG = 1  # <sys/prctl.h>

# Installed by the page before its own scripts: uncaught errors and unhandled rejections
# go to the browser (and from there to --errors), surviving reloads and navigations.
ERROR_COLLECTOR = """
(() => {
  const report = (text) => {
    try { window.webkit.messageHandlers.parleyError.postMessage(String(text)); } catch {}
  };
  window.addEventListener("error", (event) => {
    const where = event.filename ? ` (${event.filename}:${event.lineno}:${event.colno})` : "";
    report(`${event.message}${where}`);
  });
  window.addEventListener("unhandledrejection", (event) => {
    const reason = event.reason;
    report(`Unhandled rejection: ${reason && (reason.stack || reason.message) || reason}`);
  });
})();
"""


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="phone_browser")
    parser.add_argument("--automation", action="store_true")
    parser.add_argument("--profile", required=True)
    parser.add_argument("--downloads")
    parser.add_argument("--errors")
    parser.add_argument("--init-script", action="append", default=[])
    parser.add_argument("--locale")
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--size", default="390x844")
    parser.add_argument("url", nargs="?")
    return parser.parse_args(argv)


def die_with_parent() -> None:
    """Exit when WebKitWebDriver does, even if it was killed before it could close us."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the driver's own clean-up is all there is


def main(argv: list[str]) -> int:
    args = parse(argv)
    die_with_parent()
    if args.locale:
        # Read by GLib (and WebKit's web process) when first asked: set before importing GTK.
        for name in ("LANG", "LC_ALL", "LANGUAGE"):
            os.environ[name] = args.locale

    # The system python's PyGObject: not installed in the test venv, and without stubs.
    import gi  # type: ignore[import-not-found]

    gi.require_version("Gtk", "3.0")
    gi.require_version("WebKit2", "4.1")
    from gi.repository import GLib, Gtk, WebKit2  # type: ignore[import-not-found]

    width, height = (int(n) for n in args.size.split("x"))
    Gtk.init([])
    if args.dark:
        Gtk.Settings.get_default().set_property("gtk-application-prefer-dark-theme", True)

    data = WebKit2.WebsiteDataManager(
        base_data_directory=os.path.join(args.profile, "data"),
        base_cache_directory=os.path.join(args.profile, "cache"),
    )
    context = WebKit2.WebContext.new_with_website_data_manager(data)
    context.set_automation_allowed(args.automation)

    scripts = WebKit2.UserContentManager()
    scripts.add_script(_user_script(WebKit2, ERROR_COLLECTOR))
    for path in args.init_script:
        with open(path, encoding="utf-8") as handle:
            scripts.add_script(_user_script(WebKit2, handle.read()))
    scripts.register_script_message_handler("parleyError")
    scripts.connect("script-message-received::parleyError",
                    lambda _m, result: _note_error(args.errors, result.get_js_value().to_string()))

    settings = WebKit2.Settings()
    settings.set_enable_media_stream(True)
    settings.set_enable_mock_capture_devices(True)
    settings.set_enable_webaudio(True)
    settings.set_enable_write_console_messages_to_stdout(True)
    settings.set_enable_developer_extras(True)

    windows: list[Any] = []

    def new_view(automated: bool) -> Any:
        view = WebKit2.WebView(
            web_context=context, settings=settings, user_content_manager=scripts,
            is_controlled_by_automation=automated,
        )
        view.connect("permission-request", _allow)
        window = Gtk.Window()
        window.set_decorated(False)
        window.set_default_size(width, height)
        window.add(view)
        windows.append(window)

        def closed(_view: Any) -> None:
            windows.remove(window)
            window.destroy()
            if not windows:
                Gtk.main_quit()

        view.connect("close", closed)
        window.show_all()
        view.grab_focus()
        return view

    def automation_started(_context: Any, session: Any) -> None:
        info = WebKit2.ApplicationInfo()
        info.set_name(NAME)
        info.set_version(WebKit2.get_major_version(), WebKit2.get_minor_version(),
                         WebKit2.get_micro_version())
        session.set_application_info(info)
        session.connect("create-web-view", lambda _session: new_view(True))

    context.connect("automation-started", automation_started)
    if args.downloads:
        context.connect("download-started",
                        lambda _c, download: _save(GLib, download, args.downloads, args.errors))
    if not args.automation:
        new_view(False).load_uri(args.url or "about:blank")
    Gtk.main()
    return 0


def _user_script(webkit: Any, source: str) -> Any:
    return webkit.UserScript(
        source, webkit.UserContentInjectedFrames.TOP_FRAME,
        webkit.UserScriptInjectionTime.START, None, None,
    )


def _allow(_view: Any, request: Any) -> bool:
    # Microphone, notifications...: a tester taps "Allow" on everything.
    request.allow()
    return True


def _note_error(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(text) + "\n")
    sys.stderr.write(f"JavaScript error: {text}\n")


def _save(glib: Any, download: Any, folder: str, errors: str | None) -> None:
    """Save a download as .partial-NAME and rename it to NAME once it is complete."""
    names: dict[str, str] = {}

    def decide(dl: Any, suggested: str) -> bool:
        name = os.path.basename(suggested) or "download"
        names["final"] = os.path.join(folder, name)
        names["partial"] = os.path.join(folder, f".partial-{name}")
        dl.set_allow_overwrite(True)
        dl.set_destination(glib.filename_to_uri(names["partial"], None))
        return True

    def finished(_dl: Any) -> None:
        if "partial" in names and os.path.exists(names["partial"]):
            os.replace(names["partial"], names["final"])

    def failed(_dl: Any, error: Any) -> None:
        _note_error(errors, f"Download failed: {error}")

    download.connect("decide-destination", decide)
    download.connect("finished", finished)
    download.connect("failed", failed)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
