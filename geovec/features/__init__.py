"""Features of images: decoding any image file (:mod:`.decode`), Caffe's preprocessing
(:mod:`.preprocess`), GIST (:mod:`.gist`), feature names (:mod:`.names`), batched jitted
extraction (:mod:`.extract`) and the indoor/outdoor filter (:mod:`.indoor`)."""
