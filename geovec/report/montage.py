"""Montages: rows of labelled thumbnails (Figures 5, 6 and 8 of the paper), drawn with
Pillow; a missing or unreadable image becomes a grey square. Text is drawn with Pillow's
scalable default font at sizes a reader can read where the page shows the montage."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from geovec.report.paths import output_file

LABEL_PX = 20
"""Row labels' font size (pixels)."""
CAPTION_PX = 14
"""Captions' font size (pixels): two lines under each thumbnail."""


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, lines: int = 2) -> list[str]:
    """``text`` cut into at most ``lines`` lines of at most ``width`` pixels (the last one
    ends with an ellipsis when text is left over)."""
    out, rest = [], text
    while rest and len(out) < lines:
        cut = len(rest)
        while cut > 1 and draw.textlength(rest[:cut], font=font) > width:
            cut -= 1
        out.append(rest[:cut])
        rest = rest[cut:]
    if rest and out:
        line = out[-1]
        while line and draw.textlength(line + "…", font=font) > width:
            line = line[:-1]
        out[-1] = line + "…"
    return out


def _wrap_words(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """``text`` in lines of whole words, each at most ``width`` pixels where a word fits."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _thumbnail(image_path: str | Path, thumb: int) -> Image.Image:
    """The image at ``image_path`` fitted in ``thumb`` x ``thumb`` pixels (its shape
    kept), or a grey square when it cannot be read (none: imported embeddings)."""
    try:
        with Image.open(image_path or "") as img:
            img = img.convert("RGB")
            img.thumbnail((thumb, thumb))
            return img
    except (OSError, ValueError):
        return Image.new("RGB", (thumb, thumb), "grey")


CAPTION_BLOCK = 2 * (CAPTION_PX + 3) + 4
"""Pixels under a thumbnail for its two caption lines."""
ROW_GAP = 10
"""Pixels between rows."""


def montage(
    rows: list[tuple[str, list[tuple[str, str]]]],
    path: Path,
    thumb: int = 160,
    lead: tuple[str, str, str] | None = None,
) -> Path:
    """A grid of thumbnails: each row a label and a list of (image path, caption), each
    caption right under its image and each row as tall as its tallest thumbnail.
    ``lead``: (label, image path, caption) of one image drawn in a column of its own,
    left of the rows and centred on them (a search's query), instead of a row of one
    that would leave the rest of its row blank."""
    label_font = ImageFont.load_default(size=LABEL_PX)
    caption_font = ImageFont.load_default(size=CAPTION_PX)
    width = max((len(items) for _, items in rows), default=1)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_w = 16 + max(
        (probe.textlength(w, font=label_font) for label, _ in rows for w in label.split()),
        default=100,
    )
    label_w = int(max(label_w, 120))
    thumbs = [[(_thumbnail(p, thumb), caption) for p, caption in items] for _, items in rows]
    heights = [max((img.height for img, _ in row), default=thumb) for row in thumbs]
    tops = [sum(h + CAPTION_BLOCK + ROW_GAP for h in heights[:r]) for r in range(len(rows))]
    rows_h = sum(h + CAPTION_BLOCK + ROW_GAP for h in heights)
    lead_w, lead_img = 0, None
    if lead is not None:
        lead_img = _thumbnail(lead[1], thumb)
        lead_w = thumb + 24
    lead_h = LABEL_PX + 6 + lead_img.height + CAPTION_BLOCK if lead_img else 0
    height = max(rows_h, lead_h + ROW_GAP)
    canvas = Image.new("RGB", (lead_w + label_w + width * (thumb + 8), height), "white")
    draw = ImageDraw.Draw(canvas)
    if lead is not None and lead_img is not None:
        top = (height - lead_h) // 2
        draw.text((8, top), lead[0], fill="black", font=label_font)
        canvas.paste(lead_img, (8, top + LABEL_PX + 6))
        for i, line in enumerate(_wrap(draw, lead[2], caption_font, thumb)):
            y = top + LABEL_PX + 6 + lead_img.height + 3 + i * (CAPTION_PX + 3)
            draw.text((8, y), line, fill="black", font=caption_font)
    for r, (label, _) in enumerate(rows):
        top, row_h = tops[r], heights[r]
        words = _wrap_words(draw, label, label_font, label_w - 12)
        for i, line in enumerate(words):
            y = top + row_h // 2 - (len(words) * (LABEL_PX + 2)) // 2 + i * (LABEL_PX + 2)
            draw.text((lead_w + 6, y), line, fill="black", font=label_font)
        for c, (img, caption) in enumerate(thumbs[r]):
            left = lead_w + label_w + c * (thumb + 8)
            canvas.paste(img, (left, top))
            for i, line in enumerate(_wrap(draw, caption, caption_font, thumb)):
                y = top + img.height + 3 + i * (CAPTION_PX + 3)
                draw.text((left, y), line, fill="black", font=caption_font)
    path = output_file(path, set(Image.registered_extensions()))
    canvas.save(path)
    return path
