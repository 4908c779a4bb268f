"""The app's own web routes beside Streamlit's: the sign-in page, and a call's files.

A sign-in is a row in the database (:func:`capstone.app.accounts.sign_in`); the browser holds
its token in an HttpOnly, SameSite=Lax cookie, so a reload, a second tab or a bookmarked link
to a call stays signed in, and the server ends it (sign-out, expiry, a removed user) by
deleting the row. :class:`SignInFirst` sends any page asked for without a live session to
``/signin?next=<the page>``; after the sign-in the browser goes back there.

A call's pictures, video and readings are served at ``/files/<call>/<file>`` only to a
session allowed to see that call (:mod:`capstone.app.access`), and only for the files its
results name; a deleted call's answer 404 at once. Streamlit's own ``/media/`` addresses (the
first look's face tiles) answer only to a live session.
"""

from __future__ import annotations

import functools
import html
import urllib.parse
from pathlib import Path

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from capstone.app.access import AccessDenied, call_for, can_export
from capstone.app.accounts import AccountError, Viewer, session_hours, sign_in, viewer_of
from capstone.app.audit import record
from capstone.app.context import app_settings
from capstone.app.database import open_database
from capstone.app.services import export

COOKIE = "capstone_session"
SIGN_IN = "/signin"
FILES = "/files"
READINGS = "readings"  # /files/<call>/readings: the call's readings to download
#: Streamlit's own addresses that are not pages (scripts, styles, the websocket...).
NOT_PAGES = ("/_stcore/", "/static/", "/component/", "/app/static/", "/favicon", "/manifest")
PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@functools.cache
def _opened() -> tuple[Path, Engine]:
    settings = app_settings()
    return settings.data, open_database(settings.database_url)


def way_back(asked: str | None) -> str:
    """The page to return to after the sign-in: ``asked`` if it is an address on this site
    (a path), otherwise the home page."""
    if not asked or not asked.startswith("/") or asked.startswith("//") or "\\" in asked:
        return "/"
    return asked


def call_file(engine: Engine, data: Path, viewer: Viewer | None, call_id: int, name: str) -> Path:
    """The file ``name`` of call ``call_id`` for ``viewer``; :class:`AccessDenied` unless they
    may see the call and its results name that file."""
    call = call_for(engine, viewer, call_id)
    named = {file for outputs in call.results.outputs for file in outputs.files}
    path = (data / name).resolve()
    if name not in named or not path.is_relative_to(data.resolve()) or not path.is_file():
        raise AccessDenied("no such file")
    return path


def _sign_in_page(asked: str, name: str = "", said: str = "", status: int = 200) -> HTMLResponse:
    """The sign-in form: plain HTML, so that it works before any script runs."""
    notice = f'<p role="alert" class="said">{html.escape(said)}</p>' if said else ""
    return HTMLResponse(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in - Show Me The Money</title>
<style>body{{font-family:sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}}
label,input,button{{display:block;width:100%;margin:.3rem 0;font-size:1rem}}
input{{padding:.4rem}} button{{padding:.5rem;margin-top:1rem}} .said{{color:#a00}}</style>
</head><body><h1>Show Me The Money</h1>{notice}
<form method="post" action="{SIGN_IN}">
<input type="hidden" name="next" value="{html.escape(asked)}">
<label for="name">Name</label>
<input id="name" name="name" autocomplete="username" value="{html.escape(name)}" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>
<p><small>No account? Ask your admin (capstone users add).</small></p></body></html>""",
        status_code=status,
        headers=PRIVATE,
    )


async def signin(request: Request) -> Response:
    """``GET /signin``: the form. ``POST /signin``: check the name and password; on success
    set the session cookie and go back to the page asked for."""
    if request.method == "GET":
        return _sign_in_page(way_back(request.query_params.get("next")))
    form = urllib.parse.parse_qs((await request.body()).decode("utf-8", "replace"))
    name, password = (form.get(key, [""])[0] for key in ("name", "password"))
    asked = way_back(form.get("next", [""])[0])
    _, engine = _opened()
    address = request.client.host if request.client else ""
    try:
        token = await run_in_threadpool(sign_in, engine, name, password, address)
    except AccountError as err:
        return _sign_in_page(asked, name, str(err), status=401)
    viewer = await run_in_threadpool(viewer_of, engine, token)
    await run_in_threadpool(record, engine, viewer.name if viewer else name.strip(), "signed in")
    response = RedirectResponse(asked, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(session_hours() * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def files(request: Request) -> Response:
    """``GET /files/<call>/<file>``: the file, to a session that may see the call; 404 to
    anyone else, in the same words whether the call exists or not."""
    data, engine = _opened()
    viewer = viewer_of(engine, request.cookies.get(COOKIE))
    call_id, name = int(request.path_params["call"]), request.path_params["name"]
    try:
        if name != READINGS:
            return FileResponse(call_file(engine, data, viewer, call_id, name), headers=PRIVATE)
        call = call_for(engine, viewer, call_id)
        if viewer is None or not can_export(viewer, call):
            raise AccessDenied("no such file")
        file_name, content = export(data, call.results)
        record(engine, viewer.name, "exported", call_id)
        disposition = {"Content-Disposition": f'attachment; filename="{file_name}"'}
        return Response(content, headers={**PRIVATE, **disposition})
    except AccessDenied:
        return Response("Not found", status_code=404, headers=PRIVATE)


class SignInFirst:
    """ASGI middleware: a page asked for without a live session goes to the sign-in (and
    back after it); Streamlit's ``/media/`` answers 404 without one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            request = Request(scope)
            path = request.url.path
            media = path.startswith("/media/")
            page = "text/html" in request.headers.get("accept", "") and not (
                path.startswith((SIGN_IN, FILES, *NOT_PAGES))
            )
            if media or page:
                _, engine = _opened()
                token = request.cookies.get(COOKIE)
                if await run_in_threadpool(viewer_of, engine, token) is None:
                    asked = path + (f"?{request.url.query}" if request.url.query else "")
                    where = f"{SIGN_IN}?{urllib.parse.urlencode({'next': asked})}"
                    response: Response = (
                        Response("Not found", status_code=404, headers=PRIVATE)
                        if media
                        else RedirectResponse(where, status_code=303)
                    )
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


ROUTES = [
    Route(SIGN_IN, signin, methods=["GET", "POST"]),
    Route(FILES + "/{call:int}/{name:path}", files, methods=["GET", "HEAD"]),
]
