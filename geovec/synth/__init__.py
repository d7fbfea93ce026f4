"""A synthetic geo-world with known truth: two regions, land cover, aerial tiles, ground
photos and panoramas whose content follows the land cover around them.

See :func:`geovec.synth.build.synth` (``geovec synth DIR``).
"""
