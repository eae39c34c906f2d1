"""Training side of actinr: video input/output, the ActINR model, fitting, metrics."""
