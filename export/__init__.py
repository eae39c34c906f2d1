"""Export stage of actinr: bias baking, the ONNX decoder graph and TensorRT plans (next issue)."""
