"""Georeferenced products out of a store, for GIS tools and catalogues: GeoParquet 1.1
tables (:mod:`.tables`, written by :mod:`.geoparquet`), Cloud Optimized GeoTIFFs of the
land-cover image and the localisation heatmap (:mod:`.rasters`), the heatmap's tiles as
GeoJSON or GeoParquet polygons (:mod:`.tiles`) and a STAC catalogue of what was
exported (:mod:`.stac`)."""
