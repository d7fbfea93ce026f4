"""Regions of stored rows: how a row without one is shown and addressed, and setting them.

A row's ``region`` is a name, or null: images of your own (a folder of photos, ``geovec
grid``, ``geovec aerial``) have none until ``--region``, ``--regions LAYER`` or ``geovec
regions`` names them. A null region is

- shown as ``no region`` (:data:`NO_REGION`) everywhere a person reads it: command output,
  JSON keys and values, figure titles, the explorer;
- addressed as the empty string ``""`` wherever a region is asked for: the library's
  ``region=`` arguments, the command line's ``--region ""``, the explorer's ``?region=``.
  ``"no region"`` itself is accepted there too. No stored region is ever ``""`` or
  ``"no region"`` (a manifest's cell or a layer's polygon named so, or blank, is read as
  null: :func:`stored_region`; :func:`check_name` refuses both), so neither address is
  ambiguous.
"""

from __future__ import annotations

import pyarrow as pa

from geovec.errors import GeovecError
from geovec.store.filters import quote

NO_REGION = "no region"
"""How a null region is shown."""
NULL_ADDRESS = ""
"""How a null region is addressed (``region=""``)."""


def region_label(region: str | None) -> str:
    """The region as a person reads it: its name, or ``no region`` for null (and for its
    address, ``""``)."""
    return NO_REGION if region is None or region == NULL_ADDRESS else str(region)


def region_key(region: str | None) -> str | None:
    """The stored value a ``region=`` argument addresses: ``""`` and ``"no region"`` are
    null; a name is itself."""
    return None if region in (NULL_ADDRESS, NO_REGION) else region


def region_address(region: str | None) -> str:
    """The value of ``region=`` (an API argument, a URL) that addresses stored ``region``."""
    return NULL_ADDRESS if region is None else region


def region_filter(region: str) -> str:
    """The Lance filter selecting the rows of ``region`` (an address: ``""`` is null)."""
    key = region_key(region)
    return "region IS NULL" if key is None else f"region = {quote(key)}"


def stored_region(value) -> str | None:
    """The region to store for a value read from a table cell or a layer's field: None
    (no region) for a missing, empty or blank value and for ``no region`` (how null is
    shown); else the text, trimmed (as :func:`check_name` trims ``--region``)."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text in (NULL_ADDRESS, NO_REGION) else text


def check_name(name: str) -> str:
    """``name`` as a region to store: text that is neither empty nor ``no region``."""
    name = str(name).strip()
    if not name or name == NO_REGION:
        raise GeovecError(
            f"a region needs a name other than {name!r} (rows without a region are shown "
            f'as {NO_REGION!r} and addressed as "")'
        )
    return name


def set_regions(store, view: str, ids: list[str], regions: list[str | None]) -> None:
    """Set ``region`` of the rows ``ids`` of ``view`` (None: no region), one commit."""
    if not ids:
        return
    rows = pa.table({"id": pa.array(ids, pa.string()), "region": pa.array(regions, pa.string())})
    store.update_columns(view, rows)
