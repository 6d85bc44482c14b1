"""The desk's pages, one module a part: each has ``routes`` (an APIRouter)."""
