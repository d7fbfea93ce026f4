"""Ingest: where images and their locations come from (:mod:`.sources`: manifests, and
:mod:`.exif`: folders located by EXIF GPS), the streaming pipeline (:mod:`.stream`) and the
ingest and extract runs (:mod:`.run`)."""
