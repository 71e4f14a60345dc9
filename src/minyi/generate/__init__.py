"""Realistic data at scale: `minyi generate --tickets N` fills the database with tickets whose
mix follows the seed's figures (`figures`), with their whole history, in bulk (COPY).

`draw` makes every random choice (numpy), `rows` renders the rows as the actions would write
them, `store` reserves numbers and ids and writes, `runner` runs it in worker processes.
"""
