"""Metadata providers behind one interface (SPEC §7.1): ``base.MetadataProvider``."""
