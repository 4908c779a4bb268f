"""The embedded default's calls: call frames and recordings composed from a real photo, with the true face boxes."""
