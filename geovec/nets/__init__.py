"""The networks: the Flax AlexNet family (:mod:`.alexnet`), Caffe's file formats decoded
without Caffe (:mod:`.caffe`, :mod:`.caffe_to_flax`), conversion to safetensors
(:mod:`.convert`), the known networks (:mod:`.registry`), the weights directory
(:mod:`.weights`) and category labels (:mod:`.labels`)."""
