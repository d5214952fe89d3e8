"""The HTTP API (FastAPI): routers per audience, schemas, error mapping and the web page."""
