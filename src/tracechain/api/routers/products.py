"""Routes of the products feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
