"""The bottom layer: the canonical model, the mapping spec, the national code lists, the settings. Pure Python."""
