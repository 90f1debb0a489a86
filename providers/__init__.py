"""Service clients, bpy-free: a package per service (its operations, errors and client) over
the shared HTTP layer (timeouts, retries, redaction, error taxonomy), and one registry."""
