"""Element 84's Earth Search: Sentinel-2 Level-2A (Collection 1) as public Cloud-Optimized
GeoTIFFs behind a STAC API, with no account and no key.

The only package of the project that imports ``pystac_client`` (``listing``) and
``rasterio`` (``reading``). One module per concern:

- ``items``: Earth Search item JSON → what a read needs (pure);
- ``listing``: the STAC search, every page, same-day items merged into one acquisition;
- ``reading``: each band's window of its COG, put on the area's 10 m grid by nearest neighbour;
- ``errors``: failures translated into messages that say what to do;
- ``source``: the ``ImageSource`` tying them together.
"""

from labeller.sources.earthsearch.source import COLLECTION_ID, EarthSearchSource, make_source

__all__ = ["COLLECTION_ID", "EarthSearchSource", "make_source"]
