"""Local stand-ins for outside services, for tests and benchmarks (see ``sentinelhub_server``)."""
