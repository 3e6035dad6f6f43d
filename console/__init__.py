"""The operator console and the HTTP API (FastAPI on uvicorn).

Layering: console imports storage, rules, protocol and config; nothing imports console
but cli. Pages are plain HTML, CSS and JavaScript in ``console/static`` with charts drawn
as SVG by ``app.js`` itself: nothing is fetched from elsewhere at run time.
"""
