"""The operations console: server-rendered pages mounted at /console (see docs/console.md)."""
