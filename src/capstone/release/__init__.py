"""The final model: finishing it (calibration, threshold), publishing it to models/, and its model card."""
