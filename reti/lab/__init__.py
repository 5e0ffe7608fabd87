"""The lab: a local web app on reti's own engine, one page per part of the notes (needs the
``lab`` extra: starlette, uvicorn, python-multipart). ``create_app`` is imported from
``reti.lab.app`` by the CLI, so ``import reti.lab`` alone needs no web framework."""
