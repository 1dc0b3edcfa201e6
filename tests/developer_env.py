"""Settings of a developer's shell that no test may read: their database, credentials,
endpoints and tuning. Removed by an autouse fixture (tests/conftest.py) and from the
environment of every app server the browser tests start."""

DEVELOPER_ENV = (
    "LABELLER_DATABASE_URL",
    "LABELLER_DATA_DIR",
    "LABELLER_PREFETCH",
    "LABELLER_STAC_URL",
    "LABELLER_SCENE_CACHE_MB",
    "LABELLER_EPHEMERAL_DISK",
    "SH_CLIENT_ID",
    "SH_CLIENT_SECRET",
    "CDSE_CLIENT_ID",
    "CDSE_CLIENT_SECRET",
    "SH_BASE_URL",
    "SH_TOKEN_URL",
    "CDSE_BASE_URL",
    "CDSE_TOKEN_URL",
    "SH_PROFILE",
)
