"""``actinr bench``: frames per second of each decoder backend at each output size, against the plain model.

One module per job:

- config.py: :class:`BenchConfig` (its fields are the flags and their help; stored in the result JSON) and
  the parsing of sizes, backend and precision lists;
- stats.py: frame statistics (numpy percentiles) and the frame times a row renders;
- timing.py: the per-frame timer (CUDA events or perf_counter) and one row's measurement;
- display.py: the way of a frame to the screen (upload, present) in a window or offscreen;
- system.py: what ran where (CPU, GPU, driver, library versions);
- report.py: the table, the JSON and the plot;
- run.py: the command: which backends and options to measure, and the run itself.

How a row is measured. Per backend the decoder is opened once and every GOP's
weights are loaded first (a player keeps them, so steady playback never
reloads). Per output size: a warm-up (kernel selection, CUDA graph capture,
grid upload) over the first times of the run, then ``--frames`` frames at
advancing times, each ``1 / --slowmo`` of a source frame after the last
(``--slowmo 1``: one source frame per rendered frame), wrapping at the end of
the clip. So the biases change every frame and GOP switches come as they do in
playback.

Each frame is timed alone between device synchronisations: with CUDA events
on a GPU backend (start recorded once the device is idle, end recorded after
the decoder's ``synchronize``), with ``perf_counter`` on the CPU. A row stops
after ``--max-seconds`` of timed frames once it has ``MIN_FRAMES``, so slow
CPU rows end in bounded time; the row records how many frames it timed.

``--display`` sends every frame the player's way to the screen as well: the
decoded frame is uploaded (the CUDA-GL interop copy for a CUDA decoder whose
GL context is on an NVIDIA GPU, else a host upload), drawn and presented with
vsync off, in a player window when there is a display and offscreen otherwise
(EGL, player/offscreen.py). Those stages are timed with ``perf_counter``
after ``glFinish``; display FPS is 1000 / mean(decode + upload + present).

``--sweep`` adds a row per value of each backend's tuning options
(``Backend.sweep``: the CPU backends' chunk sizes, torch-cuda with CUDA graphs
off), which is how those modules' defaults were chosen.

The reference is train/'s PyTorch fp32 model evaluated the plain way
(train/render.py :class:`BundleRenderer`), on the GPU when GPU backends are
benchmarked; every backend's FPS is also given as a speed-up against it at the
same size. run.py is the one player module that imports train/, lazily and
only for the reference (``--no-reference`` skips it): a baseline has to be the
training code itself. The playing modules never import train/ or export/.
"""
