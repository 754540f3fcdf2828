"""Helpers every layer shares: argument checks with one clear error each (`checks`), files
written atomically and paths checked before any work (`files`), and lazy re-exports (`lazy`).
"""
