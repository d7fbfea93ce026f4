"""Geography: named bounds (:mod:`.bounds`), the aerial reference grid (:mod:`.grid`),
georeferenced orthophotos (:mod:`.ortho`) and panorama cutouts (:mod:`.cutouts`)."""
