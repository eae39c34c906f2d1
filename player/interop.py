"""Getting a decoded frame into the OpenGL texture: CUDA-GL interop, or a host upload.

On a CUDA decoder the frame is a torch tensor in GPU memory. The interop path
registers a pixel buffer object with CUDA once (per size), then per frame maps
it, copies the frame device-to-device on torch's stream, unmaps it (which
orders the copy before any later GL command) and fills the texture from the
PBO with glTexSubImage2D: the pixels never touch host memory.

It uses NVIDIA's cuda-python runtime bindings, not pycuda: pycuda's GL module
needs a source build with GL enabled and is known to hang beside PyTorch's own
CUDA context. Registration fails where the GL context is not on an NVIDIA
GPU (Mesa, a remote display, WSL); then, and for CPU decoders, the frame is
copied to the host and uploaded, and :attr:`Uploader.path` says why.
"""

from __future__ import annotations

import numpy as np

from actinr.engines.errors import ActinrError, optional_import

from .headless import to_numpy


class Uploader:
    """Moves a decoder frame into the renderer's frame texture; :attr:`path` describes how."""

    path = "host upload"

    def __init__(self, renderer):
        self.renderer = renderer

    def upload(self, image) -> None:
        self.renderer.upload(to_numpy(image))

    def close(self) -> None:
        pass


def _cudart():
    # cuda-python >= 12.6 moved the runtime bindings; older releases have cuda.cudart
    return optional_import(("cuda.bindings.runtime", "cuda.cudart"), "gpu", "cuda-python")


class CudaGLUploader(Uploader):
    """CUDA tensor -> registered PBO (device-to-device copy) -> texture; no host copy."""

    path = "CUDA-GL interop (no host copy)"

    def __init__(self, renderer, device):
        super().__init__(renderer)
        import torch

        self.torch, self.device = torch, torch.device(device)
        if not torch.cuda.is_available():  # a CUDA build of torch without a driver or a GPU (seen with torch 2.11)
            raise ActinrError("torch sees no CUDA GPU")
        self.rt = _cudart()
        self.pbo = None
        self.resource = None
        self.nbytes = 0
        # Register a small buffer now, so an unsupported GL context is found before playback starts.
        self._ensure(3)

    def _check(self, result, what: str):
        err, *rest = result
        if int(err) != 0:
            name = self.rt.cudaGetErrorName(err)[1]
            raise ActinrError(f"{what} failed: {name.decode() if isinstance(name, bytes) else name}")
        return rest[0] if len(rest) == 1 else rest

    def _release(self) -> None:
        GL = self.renderer.GL
        if self.resource is not None:
            self.rt.cudaGraphicsUnregisterResource(self.resource)
            self.resource = None
        if self.pbo is not None:
            GL.glDeleteBuffers(1, [self.pbo])
            self.pbo = None

    def _ensure(self, nbytes: int) -> None:
        """A PBO of ``nbytes`` registered with CUDA (re-made only when the frame size changes)."""
        if nbytes == self.nbytes and self.resource is not None:
            return
        GL = self.renderer.GL
        self._release()
        try:
            self.torch.cuda.set_device(self.device)
        except (RuntimeError, AssertionError, ValueError) as exc:  # torch's own words for a device it cannot use
            raise ActinrError(f"CUDA device {self.device}: {str(exc).splitlines()[0]}") from None
        self.pbo = int(GL.glGenBuffers(1))
        GL.glBindBuffer(GL.GL_PIXEL_UNPACK_BUFFER, self.pbo)
        GL.glBufferData(GL.GL_PIXEL_UNPACK_BUFFER, nbytes, None, GL.GL_STREAM_DRAW)
        GL.glBindBuffer(GL.GL_PIXEL_UNPACK_BUFFER, 0)
        flags = self.rt.cudaGraphicsRegisterFlags.cudaGraphicsRegisterFlagsWriteDiscard
        self.resource = self._check(self.rt.cudaGraphicsGLRegisterBuffer(self.pbo, flags),
                                    "cudaGraphicsGLRegisterBuffer")
        self.nbytes = nbytes

    def upload(self, image) -> None:
        if isinstance(image, np.ndarray) or image.device.type != "cuda":
            return super().upload(image)
        image = image.contiguous()  # (h, w, 3) uint8
        h, w = image.shape[:2]
        self._ensure(image.numel())
        stream = self.torch.cuda.current_stream(image.device).cuda_stream
        rt = self.rt
        self._check(rt.cudaGraphicsMapResources(1, self.resource, stream), "cudaGraphicsMapResources")
        try:
            ptr, size = self._check(rt.cudaGraphicsResourceGetMappedPointer(self.resource),
                                    "cudaGraphicsResourceGetMappedPointer")
            self._check(rt.cudaMemcpyAsync(ptr, image.data_ptr(), image.numel(),
                                           rt.cudaMemcpyKind.cudaMemcpyDeviceToDevice, stream), "cudaMemcpyAsync")
        finally:
            self._check(rt.cudaGraphicsUnmapResources(1, self.resource, stream), "cudaGraphicsUnmapResources")
        GL = self.renderer.GL
        GL.glBindBuffer(GL.GL_PIXEL_UNPACK_BUFFER, self.pbo)
        self.renderer.frame.upload(None, w, h)  # from the PBO, offset 0
        GL.glBindBuffer(GL.GL_PIXEL_UNPACK_BUFFER, 0)

    def close(self) -> None:
        self._release()


def make_uploader(renderer, device: str, interop: bool = True) -> Uploader:
    """The interop uploader for a CUDA decoder when it registers; else the host path, with the reason."""
    if not device.startswith("cuda"):
        up = Uploader(renderer)
        up.path = "host upload (CPU decoder)"
        return up
    if not interop:
        up = Uploader(renderer)
        up.path = "host upload (--no-interop)"
        return up
    try:
        return CudaGLUploader(renderer, device)
    except ActinrError as exc:
        up = Uploader(renderer)
        up.path = f"host upload (CUDA-GL interop unavailable on {renderer.renderer}: {exc})"
        return up
