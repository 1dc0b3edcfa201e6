"""Which GDAL path and options read a COG href: S3 objects unsigned through /vsis3/."""

from labeller.sources.earthsearch.reading import gdal_path

REAL = (
    "https://e84-earth-search-sentinel-data.s3.us-west-2.amazonaws.com/sentinel-2-c1-l2a/33/T/VM/"
    "2024/7/S2A_T33TVM_20240711T100031_L2A/B04.tif"
)


def test_earth_search_href_is_read_virtual_hosted_unsigned_with_the_same_host():
    path, options = gdal_path(REAL)
    assert path == (
        "/vsis3/e84-earth-search-sentinel-data/sentinel-2-c1-l2a/33/T/VM/2024/7/S2A_T33TVM_20240711T100031_L2A/B04.tif"
    )
    assert options == {
        "AWS_NO_SIGN_REQUEST": "YES",
        "AWS_HTTPS": "YES",
        "AWS_S3_ENDPOINT": "s3.us-west-2.amazonaws.com",
        "AWS_VIRTUAL_HOSTING": "TRUE",
        "AWS_REGION": "us-west-2",
    }


def test_other_host_is_read_path_style_on_that_host():
    path, options = gdal_path("http://127.0.0.1:8766/cogs/c0/33TVM_20150711T100008/B04.tif")
    assert path == "/vsis3/cogs/c0/33TVM_20150711T100008/B04.tif"
    assert options == {
        "AWS_NO_SIGN_REQUEST": "YES",
        "AWS_HTTPS": "NO",
        "AWS_S3_ENDPOINT": "127.0.0.1:8766",
        "AWS_VIRTUAL_HOSTING": "FALSE",
    }


def test_signed_or_bucketless_urls_stay_on_vsicurl():
    signed = "https://example.blob.core.windows.net/c/B04.tif?sv=2021&sig=abc"
    assert gdal_path(signed) == (f"/vsicurl/{signed}", {})
    assert gdal_path("https://example.org/B04.tif") == ("/vsicurl/https://example.org/B04.tif", {})
