"""Training-time image augmentation as Keras preprocessing layers (any Keras backend).

The layers act only while training; at inference they pass images through unchanged.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from capstone.params import Degradation


class RandomShiftRotate(keras.layers.Layer):
    """Shift and rotate each image at random, in one bilinear resampling with reflected borders.

    Keras' ``RandomTranslation`` then ``RandomRotation`` resample twice, which blurs every
    training image a little more than the sharp validation images. Measured on a GPU replica
    of the training (see What was tried), the two resamplings cost about one point of
    validation accuracy against one.

    Parameters
    ----------
    shift : float
        Largest shift, as a fraction of the image's height and width.
    rotation : float
        Largest rotation, as a fraction of a full turn (Keras' ``RandomRotation`` factor).
    seed : int, optional
        Seed of the layer's random numbers.
    """

    def __init__(self, shift: float, rotation: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not (0 <= shift < 1 and 0 <= rotation <= 0.5):
            raise ValueError(
                f"need 0 <= shift < 1 and 0 <= rotation <= 0.5, got {shift}, {rotation}"
            )
        self.shift, self.rotation, self.seed = shift, rotation, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training: bool = True):
        if not training:
            return images
        shape = ops.shape(images)
        n, h, w = shape[0], ops.cast(shape[1], "float32"), ops.cast(shape[2], "float32")

        def uniform(factor):
            return keras.random.uniform((n,), -factor, factor, seed=self.seed_generator)

        angle = uniform(self.rotation * 2 * math.pi)
        dx, dy = uniform(self.shift) * w, uniform(self.shift) * h
        cos, sin = ops.cos(angle), ops.sin(angle)
        cx, cy = (w - 1) / 2, (h - 1) / 2
        # Output pixel (x, y) reads input pixel (a0 x + a1 y + a2, b0 x + b1 y + b2): a rotation
        # about the centre, then a shift.
        zeros = ops.zeros_like(cos)
        transform = ops.stack(
            [
                cos,
                -sin,
                cx - dx - (cos * cx - sin * cy),
                sin,
                cos,
                cy - dy - (sin * cx + cos * cy),
                zeros,
                zeros,
            ],
            axis=1,
        )
        moved = ops.image.affine_transform(
            ops.cast(images, "float32"), transform, interpolation="bilinear", fill_mode="reflect"
        )
        return ops.cast(moved, images.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "shift": self.shift,
            "rotation": self.rotation,
            "seed": self.seed,
        }


# The standard JPEG luminance quantisation table (ITU T.81, Annex K), for quality 50.
_JPEG_TABLE = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    np.float32,
)


def _dct_matrix(n: int = 8) -> np.ndarray:
    """The orthonormal DCT-II matrix: ``D @ block @ D.T`` is a block's 2-D DCT."""
    k, i = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    d = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2 / n)
    d[0] /= np.sqrt(2)
    return d.astype(np.float32)


WEBCAM_KINDS: tuple[str, ...] = typing.get_args(Degradation)
DOWNSCALE_SIDES = (16, 20, 24, 32)


class WebcamDegradation(keras.layers.Layer):
    """What a video call does to a face, at random: each ``kind`` hits an image with
    probability ``rate``, independently, in this order:

    * ``blur``: a Gaussian blur (sigma 0.5-1.5 pixels at 48x48: defocus, motion);
    * ``downscale``: down to 16, 20, 24 or 32 pixels and back up (a small tile, a far-off face);
    * ``cast``: a colour cast as the grayscale conversion sees it, a gain of 0.75-1.25 and
      an offset of -0.1 to 0.1 on the luminance (the training images are grayscale already);
    * ``low_light``: darker (gain 0.3-0.8, gamma 1-1.8), with extra sensor noise;
    * ``noise``: Gaussian sensor noise (sigma up to 0.06);
    * ``jpeg``: JPEG compression at quality 10-60, as 8x8 DCT blocks quantised with the
      standard luminance table (images whose sides are not multiples of 8 skip it).

    Pixels are floats in [0, 1]; at inference the layer passes images through. Built from
    ``keras.ops`` only, so it runs on every Keras backend.
    """

    def __init__(
        self,
        kinds: Sequence[str] = WEBCAM_KINDS,
        rate: float = 0.3,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        unknown = set(kinds) - set(WEBCAM_KINDS)
        if unknown or not 0 <= rate <= 1:
            raise ValueError(
                f"kinds must be among {', '.join(WEBCAM_KINDS)} and 0 <= rate <= 1, "
                f"got {sorted(unknown)} and {rate}"
            )
        self.kinds, self.rate, self.seed = tuple(kinds), rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _draw(self, n, low: float, high: float):
        return keras.random.uniform((n, 1, 1, 1), low, high, seed=self.seed_generator)

    def _hit(self, n):
        """1 for the images this degradation hits, 0 for the others: shape (n, 1, 1, 1)."""
        return ops.cast(self._draw(n, 0.0, 1.0) < self.rate, "float32")

    def call(self, images, training: bool = True):
        if not training or not self.kinds:
            return images
        x = ops.cast(images, "float32")
        n = ops.shape(x)[0]
        for kind in ("blur", "downscale", "cast", "low_light", "noise", "jpeg"):
            if kind in self.kinds:
                hit = self._hit(n)
                x = hit * getattr(self, f"_{kind}")(x, n) + (1 - hit) * x
        return ops.cast(ops.clip(x, 0.0, 1.0), images.dtype)

    def _blur(self, x, n):
        sigma = keras.random.uniform((), 0.5, 1.5, seed=self.seed_generator)
        taps = ops.cast(ops.arange(-2, 3), "float32")
        g = ops.exp(-(taps**2) / (2 * sigma**2))
        g = g / ops.sum(g)
        kernel = ops.reshape(ops.outer(g, g), (5, 5, 1, 1))
        return ops.depthwise_conv(
            ops.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], "reflect"), kernel, padding="valid"
        )

    def _downscale(self, x, n):
        h, w = ops.shape(x)[1], ops.shape(x)[2]
        pick = ops.floor(self._draw(n, 0.0, len(DOWNSCALE_SIDES)))  # one side per image
        out = ops.zeros_like(x)
        for k, side in enumerate(DOWNSCALE_SIDES):
            small = ops.image.resize(x, (side, side), interpolation="bilinear", antialias=True)
            back = ops.image.resize(small, (h, w), interpolation="bilinear")
            out = out + ops.cast(pick == k, "float32") * back
        return out

    def _cast(self, x, n):
        return x * self._draw(n, 0.75, 1.25) + self._draw(n, -0.1, 0.1)

    def _low_light(self, x, n):
        dark = ops.power(ops.clip(x, 0.0, 1.0), self._draw(n, 1.0, 1.8)) * self._draw(n, 0.3, 0.8)
        return dark + keras.random.normal(ops.shape(x), stddev=0.03, seed=self.seed_generator)

    def _noise(self, x, n):
        sigma = self._draw(n, 0.0, 0.06)
        return x + sigma * keras.random.normal(ops.shape(x), seed=self.seed_generator)

    def _jpeg(self, x, n):
        h, w = x.shape[1], x.shape[2]
        if h is None or w is None or h % 8 or w % 8:
            return x
        quality = self._draw(n, 10.0, 60.0)[:, :, :, :, None]  # (n, 1, 1, 1, 1)
        scale = ops.where(quality < 50, 5000.0 / quality, 200.0 - 2.0 * quality)
        table = ops.maximum(ops.floor((scale * _JPEG_TABLE + 50.0) / 100.0), 1.0)
        d = ops.convert_to_tensor(_dct_matrix())
        blocks = ops.reshape(x[..., 0] * 255.0 - 128.0, (-1, h // 8, 8, w // 8, 8))
        blocks = ops.transpose(blocks, (0, 1, 3, 2, 4))  # (n, rows, cols, 8, 8)
        coeffs = ops.matmul(ops.matmul(d, blocks), ops.transpose(d))
        coeffs = ops.round(coeffs / table) * table
        blocks = ops.matmul(ops.matmul(ops.transpose(d), coeffs), d)
        blocks = ops.transpose(blocks, (0, 1, 3, 2, 4))
        return ops.reshape((blocks + 128.0) / 255.0, (-1, h, w, 1))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "kinds": list(self.kinds),
            "rate": self.rate,
            "seed": self.seed,
        }


def augmenter(level: str, seed: int, degrade: Sequence[str] = ()) -> keras.Sequential | None:
    """Keras preprocessing layers for ``level`` ``none``, ``flip``, ``light``, ``erase`` or
    ``heavy``, followed by the webcam degradations ``degrade`` (:class:`WebcamDegradation`).

    ``flip`` is the seed's recipe (horizontal flips only); ``light`` adds small shifts and
    rotations (up to 8% and 14.4 degrees, in one resampling: :class:`RandomShiftRotate`);
    ``erase`` is ``light`` plus random erasing (half of the images get a rectangle of 2-25%
    of their area replaced by noise, so no single region, e.g. the mouth, decides);
    ``heavy`` is the seed's stage-2 recipe: rotation 30 degrees, shear 0.3, zoom 0.3, flip.
    """
    if level not in ("none", "flip", "light", "erase", "heavy"):
        raise ValueError(
            f"unknown augmentation level {level!r}; use none, flip, light, erase or heavy"
        )
    if level == "none" and not degrade:
        return None
    steps = [] if level == "none" else [keras.layers.RandomFlip("horizontal", seed=seed)]
    if level in ("light", "erase"):
        steps.append(RandomShiftRotate(0.08, 0.04, seed=seed))
    if level == "erase":
        steps.append(
            keras.layers.RandomErasing((0.5, 0.5), (0.02, 0.25), value_range=(0, 1), seed=seed)
        )
    if level == "heavy":
        steps += [
            keras.layers.RandomRotation(30 / 360, fill_mode="reflect", seed=seed),
            keras.layers.RandomShear(0.3, 0.3, fill_mode="reflect", seed=seed),
            keras.layers.RandomZoom(0.3, fill_mode="reflect", seed=seed),
        ]
    if degrade:
        steps.append(WebcamDegradation(degrade, seed=seed))
    return keras.Sequential(steps, name=f"augment_{level}" + ("_webcam" if degrade else ""))
