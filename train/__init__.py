"""Training side of actinr: video input, the ActINR model, fitting, the run folder, metrics, the renderer, eval."""
