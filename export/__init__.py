"""Export stage of actinr: bias baking, the ONNX decoder and bias-INR graphs, and ``actinr export``."""
