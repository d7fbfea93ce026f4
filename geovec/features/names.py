"""Feature names: ``<network prefix>_<layer>`` (``places_fc7``, ``imagenet_prob``),
``gist``, or the name of an added ONNX encoder (:mod:`geovec.encoders`), with the network,
layer and length each one stands for.

>>> feature_spec("places_fc8")
FeatureSpec(name='places_fc8', net='places205', layer='fc8', dim=205)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from geovec.encoders.registry import encoder_names, find_encoder
from geovec.errors import GeovecError
from geovec.features.gist import GIST_DIM
from geovec.nets.alexnet import FEATURE_LAYERS
from geovec.nets.registry import networks
from geovec.nets.weights import available_networks

GIST = "gist"
ONNX_LAYER = "onnx"


@dataclasses.dataclass(frozen=True)
class FeatureSpec:
    """One feature column: its name, network (None for GIST and ONNX encoders), layer
    (``onnx`` for an encoder) and length."""

    name: str
    net: str | None
    layer: str
    dim: int

    @property
    def encoder(self) -> str | None:
        """The added ONNX encoder computing this feature (its name), None otherwise."""
        return self.name if self.layer == ONNX_LAYER else None


def known_features() -> list[str]:
    """Every feature name geovec can compute: its own, then the added ONNX encoders."""
    names = [GIST]
    for info in networks().values():
        names += [f"{info.feature_prefix}_{layer}" for layer in FEATURE_LAYERS]
    return names + [n for n in encoder_names() if n not in names]


def feature_spec(name: str) -> FeatureSpec:
    """Parse a feature name; a clear error listing the choices if it is unknown."""
    if name == GIST:
        return FeatureSpec(GIST, None, GIST, GIST_DIM)
    for net, info in networks().items():
        prefix, _, layer = name.partition("_")
        if prefix == info.feature_prefix and layer in FEATURE_LAYERS:
            dim = info.num_classes if layer in ("fc8", "prob") else 4096
            return FeatureSpec(name, net, layer, dim)
    encoder = find_encoder(name)
    if encoder is not None:
        return FeatureSpec(name, None, ONNX_LAYER, encoder.dim)
    raise GeovecError(f"unknown feature {name!r}; choose from: {', '.join(known_features())}")


def parse_features(features: str | Sequence[str]) -> list[FeatureSpec]:
    """Parse "places_fc7,gist" or a list of names; order kept, duplicates dropped."""
    names = features.split(",") if isinstance(features, str) else list(features)
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise GeovecError("no features given; choose from: " + ", ".join(known_features()))
    return [feature_spec(n) for n in dict.fromkeys(names)]


def default_features() -> list[str]:
    """What ingest computes unless told: GIST, plus places_fc8 when converted Places205
    weights are present."""
    features = [GIST]
    if "places205" in available_networks():
        features.append(f"{networks()['places205'].feature_prefix}_fc8")
    return features
