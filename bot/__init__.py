"""The composition root: CLI, settings loading, the runtime that wires everything, the HTTP server and
the Bolt app with its middlewares. The only package that imports the features (docs/ARCHITECTURE.md)."""
