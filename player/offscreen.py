"""An OpenGL 3.3 core context with no window: EGL on a device, surfaceless, drawing into a framebuffer object.

For measuring and testing the player's GL path where there is no display (a
headless GPU server, CI): ``actinr bench --display`` and the interop tests use
it when no window can be opened. EGL is called through ctypes (libEGL.so.1,
from libglvnd: NVIDIA's driver or Mesa), because GLFW's null platform asks EGL
for a window-capable config that a surfaceless display does not offer.

The devices come from EGL_EXT_device_enumeration; a CUDA-capable one
(EGL_NV_device_cuda) is tried first, so that CUDA-GL interop can register the
context's buffers, then the rest in EGL's order (Mesa offers its software
rasteriser as a device). The context is made current with no surface
(EGL_KHR_surfaceless_context) and draws into an RGBA8 renderbuffer the size of
the "screen", bound for drawing and reading, so the renderer's ``read_pixels``
reads it back like a window.
"""

from __future__ import annotations

import ctypes

from actinr.engines.errors import ActinrError

# EGL constants (EGL 1.5 and the extensions named in the docstring).
EGL_EXTENSIONS = 0x3055
EGL_VENDOR = 0x3053
EGL_SURFACE_TYPE = 0x3033
EGL_PBUFFER_BIT = 0x0001
EGL_RENDERABLE_TYPE = 0x3040
EGL_OPENGL_BIT = 0x0008
EGL_NONE = 0x3038
EGL_OPENGL_API = 0x30A2
EGL_CONTEXT_MAJOR_VERSION = 0x3098
EGL_CONTEXT_MINOR_VERSION = 0x30FB
EGL_CONTEXT_OPENGL_PROFILE_MASK = 0x30FD
EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT = 0x0001
EGL_PLATFORM_DEVICE_EXT = 0x313F
MAX_DEVICES = 16

_vp = ctypes.c_void_p
_int_p = ctypes.POINTER(ctypes.c_int)


def _load_egl():
    try:
        egl = ctypes.CDLL("libEGL.so.1")
    except OSError:
        raise ActinrError("offscreen OpenGL needs libEGL.so.1 (apt-get install libegl1, and libegl-mesa0 "
                          "without an NVIDIA driver)") from None
    egl.eglGetProcAddress.restype = _vp
    egl.eglGetProcAddress.argtypes = [ctypes.c_char_p]
    egl.eglQueryString.restype = ctypes.c_char_p
    egl.eglQueryString.argtypes = [_vp, ctypes.c_int]
    egl.eglInitialize.argtypes = [_vp, _int_p, _int_p]
    egl.eglTerminate.argtypes = [_vp]
    egl.eglBindAPI.argtypes = [ctypes.c_uint]
    egl.eglChooseConfig.argtypes = [_vp, _int_p, ctypes.POINTER(_vp), ctypes.c_int, _int_p]
    egl.eglCreateContext.restype = _vp
    egl.eglCreateContext.argtypes = [_vp, _vp, _vp, _int_p]
    egl.eglDestroyContext.argtypes = [_vp, _vp]
    egl.eglMakeCurrent.argtypes = [_vp, _vp, _vp, _vp]
    egl.eglGetError.restype = ctypes.c_int
    return egl


def _ext(egl, name: str, restype, *argtypes):
    addr = egl.eglGetProcAddress(name.encode())
    if not addr:
        raise ActinrError(f"offscreen OpenGL: this libEGL lacks {name} (EGL device enumeration)")
    return ctypes.CFUNCTYPE(restype, *argtypes)(addr)


def _attribs(*values: int):
    return (ctypes.c_int * (len(values) + 1))(*values, EGL_NONE)


class OffscreenGL:
    """A current OpenGL 3.3 core context on an EGL device with a ``size`` framebuffer; ``close()`` releases it."""

    def __init__(self, size: tuple[int, int], prefer_cuda: bool = True):
        from .gl import load_triton_first

        load_triton_first()  # before the EGL driver (Mesa's carries LLVM): see its docstring
        self.egl = egl = _load_egl()
        query_devices = _ext(egl, "eglQueryDevicesEXT", ctypes.c_uint, ctypes.c_int, ctypes.POINTER(_vp), _int_p)
        device_string = _ext(egl, "eglQueryDeviceStringEXT", ctypes.c_char_p, _vp, ctypes.c_int)
        platform_display = _ext(egl, "eglGetPlatformDisplayEXT", _vp, ctypes.c_uint, _vp, _int_p)
        devices, count = (_vp * MAX_DEVICES)(), ctypes.c_int()
        if not query_devices(MAX_DEVICES, devices, ctypes.byref(count)) or count.value == 0:
            raise ActinrError("offscreen OpenGL: EGL lists no devices (no GPU driver, and no Mesa: "
                              "apt-get install libegl-mesa0 libgl1-mesa-dri)")
        found = []
        for i in range(count.value):
            ext = (device_string(devices[i], EGL_EXTENSIONS) or b"").decode(errors="replace")
            found.append((prefer_cuda and "EGL_NV_device_cuda" not in ext, i))
        problems = []
        self.display = self.context = None
        for _, i in sorted(found):  # CUDA-capable devices first, then EGL's order
            display = platform_display(EGL_PLATFORM_DEVICE_EXT, devices[i], None)
            try:
                self.context = self._create(display)
                self.display = display
                break
            except ActinrError as exc:
                problems.append(f"device {i}: {exc}")
                if display:
                    egl.eglTerminate(display)
        if self.context is None:
            raise ActinrError("offscreen OpenGL 3.3 core is not available (" + "; ".join(problems) + ")")
        vendor = egl.eglQueryString(self.display, EGL_VENDOR) or b"unknown"
        self.egl_vendor = vendor.decode(errors="replace")
        from OpenGL import GL

        self.GL = GL
        self.fbo = GL.glGenFramebuffers(1)
        self.color = GL.glGenRenderbuffers(1)
        self.fb_size = (0, 0)
        self.resize(size)

    def _create(self, display):
        egl = self.egl
        major, minor = ctypes.c_int(), ctypes.c_int()
        if not display or not egl.eglInitialize(display, ctypes.byref(major), ctypes.byref(minor)):
            raise ActinrError(f"eglInitialize failed (0x{egl.eglGetError():04x})")
        if not egl.eglBindAPI(EGL_OPENGL_API):
            raise ActinrError("the EGL display has no desktop OpenGL")
        config, n = _vp(), ctypes.c_int()
        ok = egl.eglChooseConfig(display, _attribs(EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE,
                                                   EGL_OPENGL_BIT), ctypes.byref(config), 1, ctypes.byref(n))
        if not ok or n.value < 1:
            raise ActinrError("no EGL config renders desktop OpenGL")
        context = egl.eglCreateContext(display, config, None, _attribs(
            EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 3,
            EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT))
        if not context:
            raise ActinrError(f"eglCreateContext (OpenGL 3.3 core) failed (0x{egl.eglGetError():04x})")
        if not egl.eglMakeCurrent(display, None, None, context):
            egl.eglDestroyContext(display, context)
            raise ActinrError(f"surfaceless eglMakeCurrent failed (0x{egl.eglGetError():04x})")
        return context

    def resize(self, size: tuple[int, int]) -> None:
        """Reallocate the framebuffer at ``size`` (w, h) and bind it for drawing and reading."""
        GL = self.GL
        w, h = size
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.fbo)
        if (w, h) != self.fb_size:
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self.color)
            GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_RGBA8, w, h)
            GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_RENDERBUFFER, self.color)
            status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
            if status != GL.GL_FRAMEBUFFER_COMPLETE:
                raise ActinrError(f"offscreen framebuffer {w}x{h} is incomplete (status 0x{int(status):04x})")
            self.fb_size = (w, h)

    def close(self) -> None:
        if self.context is None:
            return
        GL = self.GL
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        GL.glDeleteRenderbuffers(1, [self.color])
        GL.glDeleteFramebuffers(1, [self.fbo])
        self.egl.eglMakeCurrent(self.display, None, None, None)
        self.egl.eglDestroyContext(self.display, self.context)  # the display stays initialised: another
        self.context = None  # OffscreenGL on the same device shares it (EGL does not count references)

    def __enter__(self) -> OffscreenGL:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
