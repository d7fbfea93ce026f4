"""``geovec info DB`` as text: the lines of :func:`geovec.analyses.info.store_info`'s
answer, the next steps last."""

from __future__ import annotations

from geovec.counts import count

_VIEW_NOUNS = {"ground": "ground photo", "overhead": "overhead image", "map": "map tile"}


def info_lines(info: dict) -> list[str]:
    """The store's tables, features, regions, splits, indexes, failures, heads and next
    steps, one fact a line."""
    counts = info["counts"]
    lines = [f"store {info['store']}"]
    tables = ", ".join(f"{t} {n}" for t, n in counts.items()) or "none"
    lines.append(f"tables: {tables}")
    lines.append("features:")
    shown = False
    for view, columns in info["features"].items():
        for name, about in columns.items():
            held = f"{about['rows']} of {count(counts.get(view, 0), 'row')}"
            lines.append(
                f"  {view}.{name}: {about['length']} values, {held}; "
                f"{provenance_text(about['provenance'])}"
            )
            shown = True
    if not shown:
        lines[-1] += " none"
    lines.append("regions:")
    for r in info["regions"]:
        views = [count(r[v], noun) for v, noun in _VIEW_NOUNS.items() if r[v]]
        isolated = f" ({r['isolated']} isolated)" if r["isolated"] else ""
        lines.append(f"  {r['label']}: {', '.join(views)}{isolated}")
    if not info["regions"]:
        lines[-1] += " none"
    lines.append(f"split: {split_text(info['split'])}")
    indexes = [
        f"{i['view']}.{i['feature']} {i['kind']} ({count(i['indexed_rows'], 'row')})"
        for i in info["indexes"]
    ]
    lines.append(f"indexes: {', '.join(indexes) or 'none'}")
    failures = ", ".join(f"{stage} {n}" for stage, n in info["failures"].items())
    lines.append(f"failures: {failures or 'none'}")
    heads = [
        f"{h['name']} ({h['ground_feature']} -> {h['overhead_feature']}; columns "
        + ", ".join(f"{v}.{c}" for v, c in h["columns"].items())
        + ")"
        for h in info["heads"]
    ]
    lines.append(f"heads: {'; '.join(heads) or 'none'}")
    if info["next"]:
        lines.append("next:")
        lines += [f"  {step}" for step in info["next"]]
    else:
        lines.append("next: nothing missing: every analysis can run")
    return lines


def provenance_text(made: dict) -> str:
    """A feature column's provenance in a few words: its network and layer and weights,
    or GIST, an ONNX encoder, an import, a head."""
    if "head" in made:
        return f"head {made['head']} ({made.get('tower', '?')} tower)"
    if made.get("imported"):
        return f"imported from {made.get('source_file') or '?'}"
    if made.get("network") == "onnx":
        return f"ONNX encoder {made.get('encoder')} ({made.get('weights')})"
    if made.get("network"):
        sha = (made.get("source_sha256") or "")[:12]
        weights = made.get("weights") or "?"
        return f"{made['network']} {made.get('layer')}, weights {weights}" + (
            f" (source sha256 {sha}...)" if sha else ""
        )
    if "preprocessing" in made:
        return "GIST" if made["preprocessing"].startswith("LMgist") else made["preprocessing"]
    return "no provenance recorded"


def split_text(split: dict) -> str:
    """The ground images' isolation and splits in one line."""
    known = ("isolated", "flagged", "unset", "unlocated", "unpaired", "isolation_radius_m")
    named = {k: v for k, v in split.items() if k not in known and v}
    parts = [f"{split['isolated']} isolated"]
    if split["isolation_radius_m"]:
        parts[0] += f" at {split['isolation_radius_m']:g} m"
    elif not split["flagged"]:
        parts[0] = "not isolated yet"
    parts += [f"{name} {n}" for name, n in named.items()]
    if split["unset"]:
        parts.append(f"no split {split['unset']}")
    if split["unlocated"]:
        parts.append(f"{split['unlocated']} without a position")
    if split["unpaired"]:
        parts.append(f"{split['unpaired']} without an overhead pair")
    return ", ".join(parts)
