"""The networks geovec knows (ImageNet CaffeNet, Places205, Places365), from
weights/manifest.json: their feature prefix, class count, layer order, published checksums
and, where geovec ships it, their category list."""

from __future__ import annotations

import dataclasses

from geovec.errors import GeovecError
from geovec.nets.alexnet import AlexNet
from geovec.resources import weights_manifest


@dataclasses.dataclass(frozen=True)
class NetworkInfo:
    """A network geovec knows, from weights/manifest.json."""

    name: str
    description: str
    feature_prefix: str
    num_classes: int
    norm_before_pool: bool
    mean_bgr: tuple[float, float, float] | None
    known_files: tuple[dict, ...]
    mean_hint: str = ""
    labels_hint: str = ""
    labels_file: str = ""  # a category list shipped in weights/ (the default labels)

    def model(self) -> AlexNet:
        """The Flax module of this network."""
        return AlexNet(num_classes=self.num_classes, norm_before_pool=self.norm_before_pool)


def networks() -> dict[str, NetworkInfo]:
    """Known networks by name ("caffenet", "places205", "places365")."""
    out = {}
    for name, facts in weights_manifest()["networks"].items():
        mean = facts.get("mean_bgr")
        out[name] = NetworkInfo(
            name=name,
            description=facts["description"],
            feature_prefix=facts["feature_prefix"],
            num_classes=facts["num_classes"],
            norm_before_pool=facts["norm_before_pool"],
            mean_bgr=tuple(mean) if mean else None,
            known_files=tuple(facts.get("known_files", ())),
            mean_hint=facts.get("mean_hint", ""),
            labels_hint=facts.get("labels_hint", ""),
            labels_file=facts.get("labels_file", ""),
        )
    return out


def network(name: str) -> NetworkInfo:
    """The known network ``name``; a clear error naming the choices otherwise."""
    known = networks()
    if name not in known:
        raise GeovecError(f"unknown network {name!r}; choose one of: {', '.join(sorted(known))}")
    return known[name]
