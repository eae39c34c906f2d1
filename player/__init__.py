"""Player stage of actinr: the GLFW/OpenGL player, headless rendering and profiling (later issue)."""
