"""Settings of the example site as ``make load`` serves it: its URLs plus the floor view."""

from example_project.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks._load_urls"
