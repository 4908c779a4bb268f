"""The network: architectures, augmentation, training, calibration, and the released model (load, predict)."""
