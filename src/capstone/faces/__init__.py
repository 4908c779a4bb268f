"""Faces in a picture: finding them (detect), cutting them out as the model reads them (crop), and their boxes."""
