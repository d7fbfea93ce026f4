"""The explorer's page shows stored text (ids from a reader's manifest, SQL answers) as
text: Leaflet reads a string given to bindTooltip/bindPopup as HTML (innerHTML), so an id
such as <img src=x onerror=...> would run; every one gets a text node (el("span", ...))."""

import re
from pathlib import Path

import geovec.explorer

SCRIPT = Path(geovec.explorer.__file__).parent / "static" / "explorer.js"


def test_tooltips_and_popups_get_nodes_not_html():
    text = SCRIPT.read_text()
    calls = re.findall(r"\.(bindTooltip|bindPopup|setContent)\(([^)]{0,12})", text)
    assert calls, "the page binds tooltips"
    assert all(arg.startswith('el("') for _, arg in calls), calls
    assert ".innerHTML" not in text
