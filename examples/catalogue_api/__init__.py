"""The product catalogue service (FastAPI): ``uvicorn examples.catalogue_api.app:app``."""
