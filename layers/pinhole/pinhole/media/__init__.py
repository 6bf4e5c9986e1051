"""Media: what uploads Pinhole accepts (`limits`, free of imaging code so API functions can sign upload policies
with it) and how an upload becomes renditions (`imaging` for pictures, `video` for clips; both load Pillow)."""
