"""MP4 video for the LeRobot dataset: encode one episode per camera, then append it to the shared file.

LeRobot v3 keeps many episodes in one mp4 per camera and finds an episode by its from/to
timestamps. Encoding straight into that shared file would make a discarded or failed episode
impossible to take out again, so each episode is encoded into its own file while it records and,
once kept, remuxed (packets copied with shifted timestamps, no re-encoding) onto the end of the
shared file. Encoder settings follow LeRobot's (yuv420p, GOP 2, CRF 30); every frame has pts =
frame number in a 1/fps time base, which is what LeRobot's decoder expects.

The codec is H.264 (libx264, preset superfast) by default: it encodes a 640x480 frame in about 3 ms
of one core where SVT-AV1 at its fastest preset, LeRobot's default, takes 17 ms (record_throughput
benchmark, README "Recording"); two cameras at 30 fps in AV1 need a whole core of a 2-core robot PC
for the video alone. LeRobot reads both (its decoders are FFmpeg's), and decord, which GR00T's
loaders use, reads H.264 only. AV1 stays a choice (smaller files, more CPU), and so do the CRF and
the preset. Each encoder has a single thread: x264's own threads cost more CPU than they save at
640x480, and the frames of both cameras follow each other on the recorder's writer thread, which
PyAV lets go of Python's lock while it encodes. (OpenCV converts RGB to YUV 4:2:0 four times faster
than FFmpeg, but with its chroma half a pixel off where decoders expect it: 2 dB less PSNR.)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its whole configuration per encoder at the default level

VIDEO_CODECS = ("h264", "libsvtav1")
"""Software encoders LeRobot also uses that remux safely (no B-frame reordering with our options)."""
PRESETS = {
    "h264": ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"),
    "libsvtav1": tuple(str(p) for p in range(14)),
}
"""Each codec's speed presets, fastest first for x264 (SVT-AV1: 0 slowest .. 13 fastest)."""
DEFAULT_PRESETS = {"h264": "superfast", "libsvtav1": "12"}
"""x264: the fastest preset that keeps CABAC and the deblocking filter; SVT-AV1: LeRobot's."""
MAX_CRF = {"h264": 51, "libsvtav1": 63}


@dataclass(frozen=True)
class VideoConfig:
    codec: str = "h264"
    crf: int = 30
    """Constant rate factor (LeRobot's 30): lower is better quality and larger files."""
    gop: int = 2
    pix_fmt: str = "yuv420p"
    preset: str = ""
    """The codec's speed preset (PRESETS); empty: DEFAULT_PRESETS."""

    def __post_init__(self) -> None:
        if self.codec not in VIDEO_CODECS:
            raise ValueError(f"video codec {self.codec!r} unsupported; use one of {', '.join(VIDEO_CODECS)}")
        try:
            av.codec.Codec(self.codec, "w")
        except (av.codec.codec.UnknownCodecError, ValueError):
            raise ValueError(f"this PyAV build ({av.__version__}) has no {self.codec} encoder; try h264") from None
        if self.preset and self.preset not in PRESETS[self.codec]:
            raise ValueError(f"video preset {self.preset!r} unknown for {self.codec}; one of {', '.join(PRESETS[self.codec])}")
        if not 0 <= self.crf <= MAX_CRF[self.codec]:
            raise ValueError(f"video crf must be within 0..{MAX_CRF[self.codec]} for {self.codec}, got {self.crf}")

    def options(self) -> dict[str, str]:
        options = {"crf": str(self.crf), "g": str(self.gop), "preset": self.preset or DEFAULT_PRESETS[self.codec]}
        if self.codec == "h264":
            options["bf"] = "0"  # no B-frames: decode order = display order, so remuxed dts stay increasing
        return options


class EpisodeVideo:
    """One camera's frames of one episode, encoded as they arrive."""

    def __init__(self, path: Path, width: int, height: int, fps: int, config: VideoConfig):
        self._container = av.open(str(path), mode="w")
        self._stream = self._container.add_stream(config.codec, rate=fps, options=config.options())
        self._stream.width = width
        self._stream.height = height
        self._stream.pix_fmt = config.pix_fmt
        self._stream.codec_context.time_base = Fraction(1, fps)
        if config.codec == "h264":
            self._stream.codec_context.thread_count = 1  # x264's threads cost more CPU than they save here
        self._frames = 0

    @property
    def frames(self) -> int:
        return self._frames

    def add(self, image: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self._frames
        self._container.mux(self._stream.encode(frame))
        self._frames += 1

    def close(self) -> int:
        """Flush the encoder and finish the file; the number of frames written."""
        self._container.mux(self._stream.encode(None))
        self._container.close()
        return self._frames


class Mp4Appender:
    """The shared per-camera mp4: episodes are appended by remuxing their own files."""

    def __init__(self, path: Path, fps: int):
        self._path = path
        self._fps = fps
        self._container: av.container.OutputContainer | None = None
        self._stream = None
        self._frames = 0

    @property
    def path(self) -> Path:
        return self._path

    @property
    def duration_s(self) -> float:
        return self._frames / self._fps

    def append(self, episode: Path, frames: int) -> tuple[float, float]:
        """Copy an episode file's packets to the end; its (from, to) timestamps in this file."""
        start_s = self.duration_s
        with av.open(str(episode)) as source:
            source_stream = source.streams.video[0]
            if self._container is None:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._container = av.open(str(self._path), mode="w")
                self._stream = self._container.add_stream_from_template(source_stream, opaque=True)
            shift = Fraction(self._frames, self._fps) / source_stream.time_base
            if shift.denominator != 1:
                raise ValueError(f"{episode}: time base {source_stream.time_base} cannot place frame {self._frames}")
            for packet in source.demux(source_stream):
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                packet.pts += int(shift)
                packet.dts += int(shift)
                packet.stream = self._stream
                self._container.mux(packet)
        self._frames += frames
        return start_s, self.duration_s

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


def probe_video_info(path: Path) -> dict[str, object]:
    """LeRobot's `info` block of a video feature, read from the file as LeRobot does."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return {
            "video.height": stream.height,
            "video.width": stream.width,
            "video.codec": stream.codec.canonical_name,
            "video.pix_fmt": stream.codec_context.pix_fmt,
            "video.is_depth_map": False,
            "video.fps": int(round(float(stream.average_rate or stream.base_rate))),
            "video.channels": 3,
            "has_audio": bool(container.streams.audio),
        }
