"""The store: LanceDB tables of located images and their features (:mod:`.schema`,
:mod:`.database`), DuckDB over them (:mod:`.sql`) and the named queries of sql/
(:mod:`.queries`)."""

from geovec.store.database import Store, open
from geovec.store.schema import BASE_SCHEMAS, FAILURES, VIEWS

__all__ = ["BASE_SCHEMAS", "FAILURES", "VIEWS", "Store", "open"]
