"""The paper's analyses, as queries over a store: the isolation filter (:mod:`.isolation`),
cross-view localisation and its evaluation (:mod:`.crossview`, kernels in :mod:`.knn`,
metrics in :mod:`.metrics`), one photo's localisation (:mod:`.localize`), aerial
image-based search (:mod:`.search`), region classification (:mod:`.classify`) and the
land-cover PCA (:mod:`.landcover`, interpolation in :mod:`.interpolate`).

Every analysis takes the store first, then the feature, then keyword options, and returns
a dataclass; ``import geovec`` exposes each one (``geovec.evaluate``, ...)."""
