"""Exceptions raised by geovec.

Every error a user can cause derives from :class:`GeovecError`; the command line turns
each into a one-line message (exit code 1) instead of a traceback.
"""


class GeovecError(Exception):
    """Base exception of geovec: a problem the user can act on."""


class CaffeFormatError(GeovecError):
    """A .caffemodel or .binaryproto file is truncated, corrupt or not protobuf."""


class ArchitectureMismatchError(GeovecError):
    """Converted or decoded weights do not fit the network architecture."""


class WeightsNotFoundError(GeovecError):
    """Converted weights for a network are not in the weights directory."""


class ChecksumMismatchError(GeovecError):
    """A weights file's checksum differs from the published one."""


class LabelsError(GeovecError):
    """A category label file cannot be read or does not fit the network."""


class ImageDecodeError(GeovecError):
    """An image file cannot be decoded into RGB pixels."""


class ManifestError(GeovecError):
    """A manifest (CSV, Parquet, GeoJSON) or image folder cannot be read."""


class StoreError(GeovecError):
    """A geovec database directory or one of its tables is missing or unusable."""


class FeatureMissingError(StoreError):
    """A query names a feature column that the table does not hold."""


class QueryError(GeovecError):
    """An SQL query failed or was refused."""


class AerialSourceError(GeovecError):
    """An aerial source (raster, world-file image, tile folder, MBTiles) cannot be read."""


class DatasetError(GeovecError):
    """A cross-view dataset folder (CVUSA, CVACT, VIGOR) is missing a file or has a bad line."""


class HeadError(GeovecError):
    """A learned head file is unreadable, or does not fit the store's features."""


class VectorIndexError(GeovecError):
    """A vector index cannot be built, found or measured."""


class EncoderError(GeovecError):
    """An ONNX image encoder cannot be added or loaded: not one image input, not one 2-D
    output, a bad name or preprocessing, a model file changed or gone."""


class NonFiniteFeatureError(StoreError):
    """A stored feature vector holds NaN or infinity (a store written by an older geovec or
    by hand): no distance to it means anything."""
