"""Player stage of actinr: ``actinr-play`` (GLFW/OpenGL window, playback clock, keys, headless --output)
and ``actinr bench`` (bench/)."""
