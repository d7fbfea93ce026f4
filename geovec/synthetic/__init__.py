"""A synthetic geo-world with known truth: two regions, land cover, aerial tiles, ground
photos and panoramas whose content follows the land cover around them.

See :func:`geovec.synthetic.build.synth` (``geovec synth DIR``, ``geovec.synth``): the plan
(:mod:`.plan`), the renderers (:mod:`.world`, :mod:`.aerial`, :mod:`.ground`,
:mod:`.render`) and the regions' looks (:mod:`.regions`).
"""

DEFAULT_SEED = 0
"""The seed of the world that ``geovec synth`` and the demo make unless told otherwise."""
DEFAULT_GROUND = 150
"""Ground locations per region that ``geovec synth`` renders unless told otherwise."""
DEFAULT_EXTENT_KM = 8.0
"""Side of each square region in km (8 km: 256 aerial tiles of 480 m per region)."""
DEMO_GROUND = 400
"""Ground locations per region of the demo's world: the paper's kNN step (K = 30) needs
training images whose aerial views resemble each query's; at 150 per region the demo's
top-1 % stays at chance, at 400 it is several times chance (and the demo takes ~4 min)."""
