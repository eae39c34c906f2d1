"""The OpenGL 3.3 core renderer: the frame as a textured quad, letterboxed, plus the on-screen line.

One program draws both: a quad whose corners come from ``gl_VertexID`` (core
profile needs a bound VAO but no vertex buffer) inside a ``glViewport``
rectangle. The frame texture is RGB8 at the render size; when the displayed
rectangle has the same size it is sampled NEAREST, so each window pixel is
exactly one decoded pixel.
"""

from __future__ import annotations

import ctypes

import numpy as np

from actinr.engines.errors import ActinrError

VERTEX = """#version 330 core
out vec2 uv;
void main() {
    vec2 corner = vec2(float(gl_VertexID & 1), float(gl_VertexID >> 1));  // strip: (0,0) (1,0) (0,1) (1,1)
    uv = vec2(corner.x, 1.0 - corner.y);  // texture row 0 is the image's top row
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
"""

FRAGMENT = """#version 330 core
uniform sampler2D image;
in vec2 uv;
out vec4 color;
void main() { color = texture(image, uv); }
"""


def load_triton_first() -> None:
    """Import Triton, when it is installed, before this process makes its first OpenGL context.

    Mesa's drivers (llvmpipe, radeonsi) load their own LLVM into the process and
    Triton's compiler library carries another; importing Triton after Mesa's
    LLVM is loaded crashes the process (a segmentation fault, seen here with
    Mesa's llvmpipe on LLVM 15 and triton 3.9), while the other order works.
    torch imports Triton by itself when it is installed (torch._dynamo, which
    its optimizers and compiler load on first use), so without this a player or
    bench run could crash long after its window opened. Costs about 0.4 s once,
    only where Triton is installed.
    """
    import importlib.util
    import sys

    if "triton" not in sys.modules and importlib.util.find_spec("triton") is not None:
        import triton  # noqa: F401


def letterbox(fb_size: tuple[int, int], aspect: float) -> tuple[int, int, int, int]:
    """The largest ``aspect`` (w/h) rectangle centred in ``fb_size``: (x, y from the top, w, h) in pixels."""
    fw, fh = fb_size
    if fw < 1 or fh < 1:
        return 0, 0, 0, 0
    w, h = fw, max(1, round(fw / aspect))
    if h > fh:
        w, h = max(1, round(fh * aspect)), fh
    return (fw - w) // 2, (fh - h) // 2, w, h


def _compile(GL, kind, source: str) -> int:
    shader = GL.glCreateShader(kind)
    GL.glShaderSource(shader, source)
    GL.glCompileShader(shader)
    if not GL.glGetShaderiv(shader, GL.GL_COMPILE_STATUS):
        raise ActinrError(f"OpenGL shader did not compile: {GL.glGetShaderInfoLog(shader).decode(errors='replace')}")
    return shader


class Texture:
    """A 2-D texture of one pixel format, reallocated when the size changes."""

    def __init__(self, GL, internal, fmt):
        self.GL, self.internal, self.fmt = GL, internal, fmt
        self.id = GL.glGenTextures(1)
        self.size: tuple[int, int] | None = None

    def bind(self) -> None:
        self.GL.glBindTexture(self.GL.GL_TEXTURE_2D, self.id)

    def ensure(self, w: int, h: int) -> None:
        GL = self.GL
        self.bind()
        if self.size != (w, h):
            GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, self.internal, w, h, 0, self.fmt, GL.GL_UNSIGNED_BYTE, None)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
            self.size = (w, h)

    def upload(self, pixels: np.ndarray | None, w: int, h: int) -> None:
        """Replace the contents from host ``pixels`` (h, w, C) uint8, or from the bound unpack PBO if None."""
        GL = self.GL
        self.ensure(w, h)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)  # rows of 3-byte pixels are not 4-byte aligned
        data = ctypes.c_void_p(0) if pixels is None else np.ascontiguousarray(pixels)
        GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, w, h, self.fmt, GL.GL_UNSIGNED_BYTE, data)

    def filter(self, mode) -> None:
        GL = self.GL
        self.bind()
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, mode)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, mode)

    def delete(self) -> None:
        self.GL.glDeleteTextures([self.id])


class Renderer:
    """Draws the frame texture letterboxed into the framebuffer, and the OSD texture over it."""

    def __init__(self):
        from OpenGL import GL

        self.GL = GL
        version = GL.glGetString(GL.GL_VERSION)
        self.version = version.decode(errors="replace") if version else "unknown"
        vendor = GL.glGetString(GL.GL_VENDOR)
        self.vendor = vendor.decode(errors="replace") if vendor else "unknown"
        renderer = GL.glGetString(GL.GL_RENDERER)
        self.renderer = renderer.decode(errors="replace") if renderer else "unknown"
        self.program = GL.glCreateProgram()
        for kind, src in ((GL.GL_VERTEX_SHADER, VERTEX), (GL.GL_FRAGMENT_SHADER, FRAGMENT)):
            GL.glAttachShader(self.program, _compile(GL, kind, src))
        GL.glLinkProgram(self.program)
        if not GL.glGetProgramiv(self.program, GL.GL_LINK_STATUS):
            raise ActinrError(f"OpenGL program did not link: {GL.glGetProgramInfoLog(self.program).decode()}")
        self.vao = GL.glGenVertexArrays(1)
        self.frame = Texture(GL, GL.GL_RGB8, GL.GL_RGB)
        self.osd = Texture(GL, GL.GL_RGBA8, GL.GL_RGBA)
        self.osd.filter(GL.GL_NEAREST)
        GL.glClearColor(0.0, 0.0, 0.0, 1.0)

    def upload(self, pixels: np.ndarray) -> None:
        """Host upload of an (h, w, 3) uint8 frame."""
        h, w = pixels.shape[:2]
        self.frame.upload(pixels, w, h)

    def set_osd(self, rgba: np.ndarray | None) -> None:
        if rgba is not None:
            h, w = rgba.shape[:2]
            self.osd.upload(rgba, w, h)

    def _quad(self, texture: Texture, x: int, y_top: int, w: int, h: int, fb_h: int) -> None:
        GL = self.GL
        GL.glViewport(x, fb_h - y_top - h, w, h)  # GL's y runs up from the bottom
        texture.bind()
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)

    def draw(self, fb_size: tuple[int, int], rect: tuple[int, int, int, int], osd: bool = False) -> None:
        """Clear ``fb_size`` to black, draw the frame into ``rect`` (x, y from top, w, h), then the OSD."""
        GL = self.GL
        fw, fh = fb_size
        GL.glViewport(0, 0, fw, fh)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        if self.frame.size is None or rect[2] < 1 or rect[3] < 1:
            return
        GL.glUseProgram(self.program)
        GL.glBindVertexArray(self.vao)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        exact = self.frame.size == (rect[2], rect[3])
        self.frame.filter(GL.GL_NEAREST if exact else GL.GL_LINEAR)
        self._quad(self.frame, *rect, fh)
        if osd and self.osd.size is not None:
            GL.glEnable(GL.GL_BLEND)
            GL.glBlendFunc(GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)
            ow, oh = self.osd.size
            self._quad(self.osd, 0, 0, ow, oh, fh)
            GL.glDisable(GL.GL_BLEND)

    def read_pixels(self, fb_size: tuple[int, int]) -> np.ndarray:
        """The framebuffer as (h, w, 3) uint8, top row first (what the window shows)."""
        GL = self.GL
        w, h = fb_size
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        data = GL.glReadPixels(0, 0, w, h, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
        return np.frombuffer(data, np.uint8).reshape(h, w, 3)[::-1].copy()

    def close(self) -> None:
        GL = self.GL
        self.frame.delete()
        self.osd.delete()
        GL.glDeleteVertexArrays(1, [self.vao])
        GL.glDeleteProgram(self.program)
