"""The web explorer (``geovec serve``): a Leaflet map of a store in the browser, served
by a small local ASGI server with a read-only JSON API (:mod:`geovec.explorer.app`) over the
same library functions as the command line (:mod:`geovec.explorer.answers`).

Starlette and uvicorn come with the ``serve`` extra; Leaflet's files ship inside the
package (static/leaflet, with its licence), so the page works with the network unplugged.
"""
