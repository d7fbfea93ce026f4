"""ONNX image encoders as features, beside the built-in networks of :mod:`geovec.nets`.

``geovec weights add-onnx MODEL.onnx --name NAME`` checks a model with onnxruntime
(:mod:`.model`), copies it into the weights directory with a record of its sha256 and its
preprocessing (:mod:`.registry`), and from then on ``NAME`` is a feature like
``places_fc7``: :class:`~geovec.features.extract.FeatureExtractor` prepares each image
with :func:`.preprocessing.encoder_input` and runs the model per batch
(:class:`.runtime.Encoder`)."""
