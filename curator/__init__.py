"""curator: curate and publish the monthly infolettre of a community of labs."""

__version__ = "0.1.0.dev0"
PROJECT_URL = "https://github.com/curator-infolettre/curator"
USER_AGENT = f"curator/{__version__} (+{PROJECT_URL})"
